"""DNS I/O for dns-01: queries and TSIG-signed UPDATEs (RFC 2136) to one server.

Queries to an authoritative server go with recursion off, so what we see is its
own data, not a cache.  Every failure becomes a one-line :class:`ChallengeError`
that names the zone, the server and the fix for the server flavour that answered.
"""

from __future__ import annotations

import socket
import struct
from typing import Iterable, Mapping

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsig

from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.syntax.hostport import split_host_port
from certbot_safedeploy.challenges.dnsmsg import build_update, diagnose_rcode, diagnose_tsig_error, flavour_of
from certbot_safedeploy.challenges.tsigkey import TsigKey

NETWORK_ERRORS = (dns.exception.Timeout, OSError, EOFError)


def resolve_host(host: str) -> str:
    """An IP address for ``host`` (which may already be one)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ChallengeError(f"cannot resolve DNS server {host!r}: {exc.strerror}",
                             fix="give the server as an IP address or a resolvable name") from None
    return str(infos[0][4][0])


def query(name: str, rdtype: str, address: str, port: int, timeout: float, *,
          recursive: bool = False, rdclass: str = "IN") -> dns.message.Message:
    """One query over UDP, retried over TCP when truncated."""
    request = dns.message.make_query(name, rdtype, rdclass)
    if not recursive:
        request.flags &= ~dns.flags.RD
    response = dns.query.udp(request, address, port=port, timeout=timeout)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(request, address, port=port, timeout=timeout)
    return response


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def exchange_tcp(message: dns.message.Message, address: str, port: int, timeout: float) -> bytes:
    """Send ``message`` over TCP (RFC 1035 §4.2.2) and return the raw reply.

    dnspython's own helper parses the reply with the request's key and raises
    FormError on an unsigned one, losing its rcode; we parse it ourselves.
    """
    wire = message.to_wire()
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack("!H", len(wire)) + wire)
        (length,) = struct.unpack("!H", _recv_exact(sock, 2))
        return _recv_exact(sock, length)


class DnsClient:
    """The server that takes UPDATEs for a zone (usually its primary)."""

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

    def query(self, name: str, rdtype: str) -> dns.message.Message:
        try:
            return query(name, rdtype, self.address, self.port, self.timeout)
        except NETWORK_ERRORS as exc:
            raise ChallengeError(f"DNS server {self.label} did not answer a {rdtype} query for {name} "
                                 f"({type(exc).__name__})",
                                 fix="check the server and port ([[challenge.zone]] server, "
                                     "--safedeploy-nsupdate-server / --safedeploy-dns-port) and the firewall") from None
        except dns.exception.DNSException as exc:
            raise ChallengeError(f"DNS server {self.label} sent a malformed answer for {name} {rdtype}: {exc}",
                                 fix="check that this address is a DNS server") from None

    def flavour(self) -> str:
        """Which server software answers (``version.bind`` CH TXT, RFC 4892), or ""."""
        try:
            response = query("version.bind", "TXT", self.address, self.port, min(self.timeout, 2.0),
                             rdclass="CH")
        except (*NETWORK_ERRORS, dns.exception.DNSException):
            return ""
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.TXT and rrset.rdclass == dns.rdataclass.CH:
                return flavour_of(b"".join(rrset[0].strings).decode("ascii", "replace"))
        return ""

    def txt_ttls(self, names: Iterable[str]) -> dict[str, int]:
        """The TTL of the TXT set already at each name, where there is one."""
        ttls = {}
        for name in set(names):
            for rrset in self.query(name, "TXT").answer:
                if rrset.rdtype == dns.rdatatype.TXT:
                    ttls[name] = int(rrset.ttl)
        return ttls

    def update(self, zone: str, records: Iterable[tuple[str, str]], *, delete: bool = False,
               ttls: Mapping[str, int] | None = None) -> None:
        message = build_update(zone, records, self.key, delete=delete, ttls=ttls)
        key = self.key.name if self.key else "(none)"
        try:
            wire = exchange_tcp(message, self.address, self.port, self.timeout)
        except NETWORK_ERRORS as exc:
            raise ChallengeError(f"update of zone {zone} at {self.label}: no answer ({type(exc).__name__})",
                                 fix="check the server address, port and firewall (TCP)") from None
        try:
            response = dns.message.from_wire(wire, keyring=message.keyring, request_mac=message.mac)
        except dns.tsig.PeerError as exc:
            code = "BADKEY" if isinstance(exc, dns.tsig.PeerBadKey) else \
                "BADTIME" if isinstance(exc, dns.tsig.PeerBadTime) else "BADSIG"
            raise _error(diagnose_tsig_error(code, zone, self.label, key, self.flavour())) from None
        except (dns.tsig.BadSignature, dns.tsig.BadTime) as exc:
            raise ChallengeError(f"update of zone {zone} at {self.label}: the reply's TSIG did not verify "
                                 f"({type(exc).__name__})", fix="check the clocks and the key file") from None
        except dns.exception.DNSException:  # dnspython >= 2.2: FormError for an unsigned reply
            response = self._unsigned(wire, zone)
        if self.key is not None and not response.had_tsig:  # dnspython 2.1 parses it silently
            raise _error(diagnose_rcode(response.rcode(), zone, self.label, key, self.flavour(), signed=False,
                                        algorithm=self.key.algorithm))
        if response.id != message.id:
            raise ChallengeError(f"update of zone {zone} at {self.label}: the reply does not match the request",
                                 fix="check that nothing between us and the server rewrites DNS")
        if response.rcode() != dns.rcode.NOERROR:
            raise _error(diagnose_rcode(response.rcode(), zone, self.label, key, self.flavour(),
                                        algorithm=self.key.algorithm if self.key else "hmac-sha256"))

    def _unsigned(self, wire: bytes, zone: str) -> dns.message.Message:
        try:
            return dns.message.from_wire(wire)
        except dns.exception.DNSException as exc:
            raise ChallengeError(f"update of zone {zone} at {self.label}: malformed reply ({exc})",
                                 fix="check that this address is the zone's DNS server") from None

    def nameservers(self, zone: str) -> tuple[list[str], dict[str, list[str]]]:
        """The NS names of ``zone`` as this server serves them, and the glue it sends."""
        response = self.query(zone, "NS")
        names = sorted({str(r.target).rstrip(".") for rrset in response.answer
                        if rrset.rdtype == dns.rdatatype.NS for r in rrset})
        if not names:
            raise ChallengeError(f"{self.label} serves no NS records for {zone}",
                                 fix="check that this server holds the zone")
        glue: dict[str, list[str]] = {}
        for rrset in response.additional:
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                glue.setdefault(rrset.name.to_text().rstrip("."), []).extend(r.address for r in rrset)
        return names, glue


def _error(diagnosis: tuple[str, str]) -> ChallengeError:
    text, fix = diagnosis
    return ChallengeError(text, fix=fix)
