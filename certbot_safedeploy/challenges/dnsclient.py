"""DNS I/O for dns-01: SOA walk, CNAME following and TSIG-signed UPDATE (RFC 2136).

All queries go straight to the configured server with recursion off, so what we
see is the server's own authoritative data, not a cache.
"""

from __future__ import annotations

import socket
from typing import Iterable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig

from ..errors import ChallengeError
from ..fsutil import split_host_port
from .dnsmsg import build_update, diagnose_rcode, diagnose_tsig_error
from .tsigkey import TsigKey

MAX_CNAME_CHAIN = 8


def resolve_host(host: str) -> str:
    """An IP address for ``host`` (which may already be one)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ChallengeError(f"cannot resolve DNS server {host!r}: {exc.strerror}",
                             fix="give the server as an IP address or a resolvable name") from None
    return str(infos[0][4][0])


def query(name: str, rdtype: str, address: str, port: int, timeout: float) -> dns.message.Message:
    """One non-recursive query over UDP, retried over TCP when truncated."""
    request = dns.message.make_query(name, rdtype)
    request.flags &= ~dns.flags.RD
    response = dns.query.udp(request, address, port=port, timeout=timeout)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(request, address, port=port, timeout=timeout)
    return response


class DnsClient:
    """Talks to the nsupdate server (the zone's primary)."""

    def __init__(self, server: str, key: TsigKey | None, *, port: int | None = None,
                 timeout: float = 5.0) -> None:
        host, parsed_port = split_host_port(server, 53)
        if parsed_port is None:
            raise ChallengeError(f"nsupdate server {server!r} is not HOST[:PORT]")
        self.port = port or parsed_port
        self.address = resolve_host(host)
        self.label = f"{host}:{self.port}"
        self.key = key
        self.timeout = timeout

    def _query(self, name: str, rdtype: str) -> dns.message.Message:
        try:
            return query(name, rdtype, self.address, self.port, self.timeout)
        except (dns.exception.Timeout, OSError) as exc:
            raise ChallengeError(f"DNS server {self.label} did not answer a {rdtype} query for {name} "
                                 f"({type(exc).__name__})",
                                 fix="check --safedeploy-nsupdate-server / --safedeploy-dns-port and the firewall") from None

    def follow_cnames(self, name: str) -> list[str]:
        """The CNAME chain from ``name``: [name, target1, ...]; loops are an error."""
        chain = [name.rstrip(".").lower()]
        while True:
            response = self._query(chain[-1], "TXT")
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
                raise ChallengeError(f"CNAME chain from {chain[0]} longer than {MAX_CNAME_CHAIN}")
            chain.append(target)

    def find_zone(self, name: str) -> str:
        """The zone holding ``name``, by an SOA walk at the server."""
        candidate = dns.name.from_text(name)
        while True:
            response = self._query(candidate.to_text(), "SOA")
            if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                pass
            else:
                for rrset in response.answer:
                    if rrset.rdtype == dns.rdatatype.SOA:
                        return rrset.name.to_text().rstrip(".")
                for rrset in response.authority:
                    if rrset.rdtype == dns.rdatatype.SOA and response.flags & dns.flags.AA:
                        return rrset.name.to_text().rstrip(".")
            if candidate == dns.name.root:
                break
            candidate = candidate.parent()
        raise ChallengeError(f"{self.label} is not authoritative for any zone above {name}",
                             fix="point --safedeploy-nsupdate-server at the zone's primary")

    def update(self, zone: str, records: Iterable[tuple[str, str]], *, delete: bool = False) -> None:
        message = build_update(zone, records, self.key, delete=delete)
        try:
            response = dns.query.tcp(message, self.address, port=self.port, timeout=self.timeout)
        except (dns.tsig.PeerError, dns.tsig.BadSignature, dns.tsig.BadTime) as exc:
            text, fix = diagnose_tsig_error(exc, zone, self.label)
            raise ChallengeError(text, fix=fix) from None
        except (dns.exception.Timeout, OSError) as exc:
            raise ChallengeError(f"update of zone {zone} at {self.label}: no answer ({type(exc).__name__})",
                                 fix="check the server address, port and firewall (TCP)") from None
        if response.rcode() != dns.rcode.NOERROR:
            text, fix = diagnose_rcode(response.rcode(), zone, self.label)
            raise ChallengeError(text, fix=fix)

    def nameservers(self, zone: str) -> list[tuple[str, list[str]]]:
        """(NS name, addresses) for every NS of ``zone``, as the server serves them."""
        response = self._query(zone, "NS")
        names = sorted({str(r.target).rstrip(".") for rrset in response.answer
                        if rrset.rdtype == dns.rdatatype.NS for r in rrset})
        if not names:
            raise ChallengeError(f"{self.label} serves no NS records for {zone}")
        glue: dict[str, list[str]] = {}
        for rrset in response.additional:
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                glue.setdefault(rrset.name.to_text().rstrip("."), []).extend(r.address for r in rrset)
        out = []
        for ns in names:
            addresses = glue.get(ns) or self._addresses(ns)
            out.append((ns, addresses))
        return out

    def _addresses(self, host: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                response = self._query(host, rdtype)
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
