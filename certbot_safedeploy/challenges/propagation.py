"""Poll every authoritative server of each zone until it serves the TXT values.

A dns-01 answer is only safe once *every* server in the zone's NS set serves the
value: the CA may ask any of them (RFC 8555 §8.4 leaves the choice to the CA),
and a miss counts against the failed-validation limit.  Queries are
non-recursive, straight to each server's addresses, with backoff; the servers
of all zones are polled together, so zones on several servers wait in parallel.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Mapping, Optional, Sequence

import dns.exception
import dns.rcode
import dns.rdatatype

from certbot_safedeploy.challenges.answers import records
from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.challenges.dnsclient import query
from certbot_safedeploy.challenges.progress import Progress, quiet

log = logging.getLogger(__name__)
UNREACHABLE_AFTER = 10.0  # seconds without any answer before a server counts as unreachable
MAX_DELAY = 1.0


@dataclasses.dataclass
class Server:
    zone: str
    name: str
    address: str
    port: int
    wanted: Mapping[str, set[str]]
    answered: bool = False
    done: bool = False
    took: Optional[float] = None
    last: str = "not asked yet"


def servers_for(zone: str, nameservers: Sequence[tuple[str, Sequence[str]]], port: int,
                wanted: Mapping[str, set[str]], *, unreachable_fails: bool = True,
                warn: Callable[[str], None] = log.warning) -> list[Server]:
    """One :class:`Server` per address of each NS; an NS without address fails or warns."""
    for ns, addrs in nameservers:
        if not addrs:
            message = f"nameserver {ns} has no address this host can find"
            if unreachable_fails:
                raise ChallengeError(message, fix="fix its A/AAAA records, or pass "
                                     "--safedeploy-unreachable-ns warn if it is only unreachable from here")
            warn(message)
    return [Server(zone, ns, addr, port, wanted) for ns, addrs in nameservers for addr in addrs]


def _serves(server: Server, timeout: float) -> bool:
    for name, values in server.wanted.items():
        response = query(name, "TXT", server.address, server.port, timeout)
        server.answered = True
        if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            server.last = f"answered {dns.rcode.to_text(response.rcode())} for {name}"
            return False
        have = {b"".join(r.strings).decode("ascii", "replace") for rrset in records(response.answer, "TXT")
                for r in rrset}
        missing = values - have
        if missing:
            server.last = f"serves {len(have & values)} of {len(values)} values at {name}"
            return False
    return True


def wait_for_propagation(servers: Sequence[Server], *, timeout: float, unreachable_fails: bool = True,
                         warn: Callable[[str], None] = log.warning, progress: Progress | None = None,
                         sleep: Callable[[float], None] = time.sleep) -> float:
    """Block until every server serves every value; return the seconds waited."""
    progress = progress or quiet()
    progress.start(servers)
    start = time.monotonic()
    delay = 0.02  # loopback-cheap; a NOTIFY-driven transfer usually lands within 100 ms
    while True:
        for server in servers:
            if server.done:
                continue
            try:
                server.done = _serves(server, timeout=min(2.0, timeout))
            except (dns.exception.DNSException, OSError) as exc:
                server.last = f"no answer ({type(exc).__name__})"
            elapsed = time.monotonic() - start
            if server.done:
                server.took = elapsed
            elif not server.answered and elapsed > min(UNREACHABLE_AFTER, timeout):
                message = (f"authoritative server {server.name} ({server.address} port {server.port}) "
                           f"cannot be reached from this host: {server.last}")
                if unreachable_fails:
                    raise ChallengeError(message, fix="open the firewall, or pass --safedeploy-unreachable-ns warn "
                                         "(unreachable_ns = \"warn\") for split-horizon setups")
                warn(message + "; not waiting for it")
                server.done = True
        elapsed = time.monotonic() - start
        if all(s.done for s in servers):
            progress.finish(servers, elapsed)
            return elapsed
        progress.tick(servers, elapsed)
        if elapsed >= timeout:
            lagging = [f"{s.name} ({s.address} port {s.port}, zone {s.zone}): {s.last}" for s in servers if not s.done]
            raise ChallengeError(
                f"the TXT record did not reach every authoritative server within {timeout:.0f} s: "
                + "; ".join(lagging),
                fix="check zone transfers (NOTIFY, allow-transfer) or raise --safedeploy-propagation-timeout")
        sleep(delay)
        delay = min(delay * 1.5, MAX_DELAY)
