"""Poll every authoritative server of a zone until it serves the TXT values.

A dns-01 answer is only safe once *every* server in the zone's NS set serves the
value: the CA may ask any of them (RFC 8555 §8.4 leaves the choice to the CA),
and a miss counts against the failed-validation limit.  Queries are
non-recursive, straight to each server's addresses, with exponential backoff.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Mapping, Sequence

import dns.exception
import dns.rcode
import dns.rdatatype

from ..errors import ChallengeError
from .dnsclient import query

log = logging.getLogger(__name__)
UNREACHABLE_AFTER = 10.0  # seconds without any answer before a server counts as unreachable


@dataclasses.dataclass
class Server:
    name: str
    address: str
    answered: bool = False
    done: bool = False
    last: str = "not asked yet"


def _serves(server: Server, port: int, wanted: Mapping[str, set[str]], timeout: float) -> bool:
    for name, values in wanted.items():
        response = query(name, "TXT", server.address, port, timeout)
        server.answered = True
        if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            server.last = f"answered {dns.rcode.to_text(response.rcode())} for {name}"
            return False
        have = {b"".join(r.strings).decode("ascii", "replace") for rrset in response.answer
                if rrset.rdtype == dns.rdatatype.TXT for r in rrset}
        missing = values - have
        if missing:
            server.last = f"serves {len(have & values)} of {len(values)} values at {name}"
            return False
    return True


def wait_for_propagation(nameservers: Sequence[tuple[str, Sequence[str]]], port: int,
                         wanted: Mapping[str, set[str]], *, timeout: float,
                         unreachable_fails: bool = True,
                         warn: Callable[[str], None] = log.warning,
                         sleep: Callable[[float], None] = time.sleep) -> float:
    """Block until every server serves every value; return the seconds waited."""
    servers = [Server(ns, addr) for ns, addrs in nameservers for addr in addrs]
    for ns, addrs in nameservers:
        if not addrs:
            message = f"nameserver {ns} has no address this host can find"
            if unreachable_fails:
                raise ChallengeError(message, fix="fix its A/AAAA records, or pass "
                                     "--safedeploy-unreachable-ns warn if it is only unreachable from here")
            warn(message)
    start = time.monotonic()
    delay = 0.02  # loopback-cheap; a NOTIFY-driven transfer usually lands within 100 ms
    while True:
        for server in servers:
            if server.done:
                continue
            try:
                server.done = _serves(server, port, wanted, timeout=min(2.0, timeout))
            except (dns.exception.DNSException, OSError) as exc:
                server.last = f"no answer ({type(exc).__name__})"
            if not server.answered and time.monotonic() - start > min(UNREACHABLE_AFTER, timeout):
                message = (f"authoritative server {server.name} ({server.address} port {port}) "
                           f"cannot be reached from this host: {server.last}")
                if unreachable_fails:
                    raise ChallengeError(message, fix="open the firewall, or pass --safedeploy-unreachable-ns warn "
                                         "(unreachable_ns = \"warn\") for split-horizon setups")
                warn(message + "; not waiting for it")
                server.done = True
        if all(s.done for s in servers):
            return time.monotonic() - start
        if time.monotonic() - start >= timeout:
            lagging = [f"{s.name} ({s.address}): {s.last}" for s in servers if not s.done]
            raise ChallengeError(
                f"the TXT record did not reach every authoritative server within {timeout:.0f} s: "
                + "; ".join(lagging),
                fix="check zone transfers (NOTIFY, allow-transfer) or raise --safedeploy-propagation-timeout")
        sleep(delay)
        delay = min(delay * 1.5, 5.0)
