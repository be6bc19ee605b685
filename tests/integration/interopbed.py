"""Knot DNS + PowerDNS + unbound + pebble: the bed for dns-01 across servers.

* Knot serves ``knot.test`` (``knot-key`` may update) and ``locked.knot.test``
  (only ``knot-other``).
* PowerDNS serves ``pdns.test`` (``pdns-key``) and ``locked.pdns.test``
  (only ``pdns-other``); ``_acme-challenge.alias.pdns.test`` is a CNAME into
  ``knot.test``, the other server's zone.
* Both have ``_acme-challenge.ttl.<zone>`` TXT "keep" with TTL 300.
* ``loop.pdns.test`` and ``loop.knot.test`` CNAME into each other across the
  servers; ``dangling.pdns.test`` points into ``nowhere.test``, which nobody serves.
* unbound has a stub zone for each and is pebble's resolver and the plugin's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .acmebed import Pebble
from .knotbed import KnotBed
from .pdnsbed import PdnsBed
from .servers import free_port
from .unboundbed import UnboundBed

CNAME_TARGET = "alias.acme.knot.test"


def _records(zone: str) -> list[str]:
    records = [f'_acme-challenge.ttl.{zone}. 300 IN TXT "keep"']
    if zone == "pdns.test":
        records += [f"_acme-challenge.alias.pdns.test. IN CNAME {CNAME_TARGET}.",
                    "_acme-challenge.dangling.pdns.test. IN CNAME x.nowhere.test.",
                    "_acme-challenge.loop.pdns.test. IN CNAME _acme-challenge.loop.knot.test."]
    if zone == "knot.test":
        records.append("_acme-challenge.loop.knot.test. IN CNAME _acme-challenge.loop.pdns.test.")
    return records


@dataclasses.dataclass
class InteropBed:
    knot: KnotBed
    pdns: PdnsBed
    unbound: UnboundBed
    pebble: Pebble

    def bed(self, flavour: str) -> KnotBed | PdnsBed:
        return self.knot if flavour == "knot" else self.pdns

    def config(self, path: Path, state_dir: Path, *, knot_key: Path | None = None, pdns_key: Path | None = None,
               pdns_by_mname: bool = False) -> Path:
        """A safedeploy config whose [challenge] has one zone entry per server.

        ``pdns_by_mname``: the pdns.test entry names no server, so the zone's SOA
        MNAME (found through unbound) takes the UPDATE.
        """
        pdns_server = "" if pdns_by_mname else f'server = "127.0.0.1:{self.pdns.port}"\n'
        path.write_text(f"""state_dir = "{state_dir}"
[challenge]
resolver = "{self.unbound.address}"
propagation_timeout = 30
[[challenge.zone]]
name = "knot.test"
server = "127.0.0.1:{self.knot.port}"
tsig_key = "{knot_key or self.knot.key_file}"
[[challenge.zone]]
name = "pdns.test"
{pdns_server}tsig_key = "{pdns_key or self.pdns.key_file}"
dns_port = {self.pdns.port}
""")
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        for server in (self.pebble, self.unbound, self.pdns, self.knot):
            server.stop()


def start_interop_bed(base: Path) -> InteropBed:
    knot = KnotBed(base / "knot", free_port(), {z: _records(z) for z in ("knot.test", "locked.knot.test")})
    pdns = PdnsBed(base / "pdns", free_port(), {z: _records(z) for z in ("pdns.test", "locked.pdns.test")})
    started: list = []
    try:
        started.append(knot.start())
        started.append(pdns.start())
        unbound = UnboundBed(base / "unbound", {
            "knot.test": [f"127.0.0.1@{knot.port}"], "locked.knot.test": [f"127.0.0.1@{knot.port}"],
            "pdns.test": [f"127.0.0.1@{pdns.port}"], "locked.pdns.test": [f"127.0.0.1@{pdns.port}"]})
        started.append(unbound.start())
        pebble = Pebble(base / "pebble", unbound.address, http_port=free_port())
        started.append(pebble.start())
    except BaseException:
        for server in reversed(started):
            server.stop()
        raise
    return InteropBed(knot, pdns, unbound, pebble)
