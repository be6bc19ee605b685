"""Where a dns-01 TXT record goes: CNAME chain, owning zone, update server and key.

RFC 8555 §8.4 validates ``_acme-challenge.<name>``; operators often CNAME it into
another zone, possibly on another server (a delegated acme zone, a second
provider).  We follow the chain as the CA's resolver will, find the zone that
owns the final name by its SOA (RFC 1035 §4.3.2), and take the server and key
from the ``[[challenge.zone]]`` entry that matches, else the global server (when
it serves the zone), else the zone's SOA MNAME with the global key
(RFC 2136 §4: the primary master).

Each lookup asks the server we would update first, without recursion: its own
data is fresher than any cache.  When it is not authoritative for the name,
the recursive resolver (``resolver``, default the system's) answers.
"""

from __future__ import annotations

import dataclasses
import socket

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.syntax.hostport import split_host_port
from certbot_safedeploy.challenges.dnsclient import NETWORK_ERRORS, query, resolve_host
from certbot_safedeploy.config.challenge_section import ChallengeSettings

MAX_CNAME_CHAIN = 8


@dataclasses.dataclass(frozen=True)
class Target:
    zone: str
    server: str  # HOST:PORT that takes the UPDATE
    tsig_key: str | None  # key file path
    dns_port: int  # port of the zone's authoritative servers


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def system_resolver() -> str | None:
    """The first nameserver of /etc/resolv.conf, or None."""
    try:
        import dns.resolver

        servers = list(dns.resolver.Resolver(configure=True).nameservers)
    except (dns.exception.DNSException, OSError):
        return None
    return str(servers[0]) if servers else None


class Locator:
    def __init__(self, settings: ChallengeSettings, timeout: float = 3.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.resolver = settings.resolver or system_resolver()

    # -- queries -----------------------------------------------------------------
    def _server_for(self, name: str) -> tuple[str, int] | None:
        """(address, port) of the server we would update for ``name``, if configured."""
        entry = self.settings.zone_for(name)
        text = entry.server if entry and entry.server else self.settings.nsupdate_server
        if not text:
            return None
        host, port = split_host_port(text, 53)
        if entry is None or not entry.server:
            port = self.settings.dns_port or port
        try:
            return resolve_host(host), int(port or 53)
        except ChallengeError:
            return None

    def lookup(self, name: str, rdtype: str) -> dns.message.Message:
        server = self._server_for(name)
        if server is not None:
            try:
                response = query(name, rdtype, server[0], server[1], self.timeout)
                if response.flags & dns.flags.AA:
                    return response
            except (*NETWORK_ERRORS, dns.exception.DNSException):
                pass
        if not self.resolver:
            raise ChallengeError(f"no resolver to look up {name} {rdtype}: this host has none in /etc/resolv.conf",
                                 fix="set resolver = \"HOST[:PORT]\" in [challenge] or --safedeploy-resolver")
        host, port = split_host_port(self.resolver, 53)
        try:
            return query(name, rdtype, resolve_host(host), port or 53, self.timeout, recursive=True)
        except (*NETWORK_ERRORS, dns.exception.DNSException) as exc:
            raise ChallengeError(f"resolver {self.resolver} did not answer {name} {rdtype} ({type(exc).__name__})",
                                 fix="check resolver / --safedeploy-resolver (a recursive resolver this host "
                                     "may query)") from None

    # -- the chain, the zone, the server -----------------------------------------
    def follow_cnames(self, name: str) -> list[str]:
        """The CNAME chain from ``name``: [name, target1, ...]; loops and dangling targets are errors.

        Each hop is a CNAME query, so a resolver hands back the record itself
        instead of chasing the chain (and failing on a loop).
        """
        chain = [name.rstrip(".").lower()]
        while True:
            try:
                response = self.lookup(chain[-1], "CNAME")
            except ChallengeError as exc:
                if len(chain) == 1:
                    raise
                raise self._dangling(chain, exc.message) from None
            if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                if len(chain) == 1:
                    raise ChallengeError(f"{name}: the DNS answered {dns.rcode.to_text(response.rcode())}",
                                         fix="check the zone and the resolver (resolver / --safedeploy-resolver)")
                raise self._dangling(chain, f"answered {dns.rcode.to_text(response.rcode())}")
            target = None
            for rrset in response.answer:
                if rrset.rdtype == dns.rdatatype.CNAME and rrset.name == dns.name.from_text(chain[-1]):
                    target = str(rrset[0].target).rstrip(".").lower()
            if target is None:
                return chain
            if target in chain:
                raise ChallengeError(f"CNAME loop at {' -> '.join(chain + [target])}",
                                     fix="fix the _acme-challenge CNAME records")
            if len(chain) > MAX_CNAME_CHAIN:
                raise ChallengeError(f"CNAME chain from {chain[0]} longer than {MAX_CNAME_CHAIN}",
                                     fix="point _acme-challenge straight at the name in the zone we update")
            chain.append(target)

    def _dangling(self, chain: list[str], why: str) -> ChallengeError:
        return ChallengeError(f"dangling CNAME: {' -> '.join(chain)} ends in a name nobody answers for ({why})",
                              fix=f"point the CNAME at a name in a zone you update, or create the zone of {chain[-1]}")

    def find_zone(self, name: str) -> tuple[str, str]:
        """(zone, SOA MNAME) of the zone that owns ``name``."""
        candidate = dns.name.from_text(name)
        while True:
            response = self.lookup(candidate.to_text(), "SOA")
            if response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                for rrset in (*response.answer, *response.authority):
                    if rrset.rdtype == dns.rdatatype.SOA and (rrset.name == candidate or candidate.is_subdomain(rrset.name)):
                        return rrset.name.to_text().rstrip(".").lower(), str(rrset[0].mname).rstrip(".")
            if candidate == dns.name.root or len(candidate) <= 2:
                break
            candidate = candidate.parent()
        raise ChallengeError(f"no zone holds {name}: neither its server nor the resolver ({self.resolver}) "
                             "returns an SOA for it (a dangling CNAME target?)",
                             fix="create the zone, fix the _acme-challenge CNAME, or set resolver / "
                                 "--safedeploy-resolver to a resolver that sees the zone")

    def _authoritative(self, server: str, port: int, zone: str) -> bool:
        host, _ = split_host_port(server, 53)
        try:
            response = query(zone, "SOA", resolve_host(host), port, self.timeout)
        except (*NETWORK_ERRORS, dns.exception.DNSException, ChallengeError):
            return True  # let the UPDATE itself report the unreachable server
        return bool(response.flags & dns.flags.AA) and any(
            r.rdtype == dns.rdatatype.SOA for r in response.answer)

    def target(self, name: str) -> Target:
        """Where the TXT record at ``name`` (already past every CNAME) is sent."""
        s = self.settings
        zone, mname = self.find_zone(name)
        entry = s.zone_for(name)
        if entry is not None:
            key = entry.tsig_key or s.tsig_key
            if entry.server:
                _, port = split_host_port(entry.server, 53)
                return Target(zone, entry.server, key, entry.dns_port or int(port or 53))
            port = entry.dns_port or s.dns_port or 53
            return Target(zone, self._host_port(mname, port), key, port)
        if s.nsupdate_server:
            host, parsed = split_host_port(s.nsupdate_server, 53)
            port = s.dns_port or int(parsed or 53)
            if self._authoritative(s.nsupdate_server, port, zone):
                return Target(zone, join_host_port(host, port), s.tsig_key, port)
            if not s.tsig_key:
                raise self._no_server(name, zone, f"{s.nsupdate_server} does not serve that zone")
        if s.tsig_key:
            port = s.dns_port or 53
            return Target(zone, self._host_port(mname, port), s.tsig_key, port)
        raise self._no_server(name, zone, "no [[challenge.zone]] entry matches and no global key is set")

    @staticmethod
    def _no_server(name: str, zone: str, why: str) -> ChallengeError:
        return ChallengeError(f"{name} is in zone {zone}: {why}",
                              fix=f"add a [[challenge.zone]] entry with name = \"{zone}\", its server and tsig_key")

    def _host_port(self, host: str, port: int) -> str:
        """``host:port`` with ``host`` (an SOA MNAME) resolved to an address."""
        addresses = self.addresses(host)
        if not addresses:
            raise ChallengeError(f"the zone's primary {host} (SOA MNAME) has no address",
                                 fix="add a [[challenge.zone]] entry with the server that takes updates")
        return join_host_port(addresses[0], port)

    def addresses(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                response = self.lookup(host, rdtype)
            except ChallengeError:
                continue
            found += [r.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.from_text(rdtype)
                      for r in rrset]
        if found:
            return found
        try:
            return sorted({str(i[4][0]) for i in socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)})
        except socket.gaierror:
            return []
