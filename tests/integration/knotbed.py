"""Knot DNS 3.2 (Debian ``knot``) on loopback with TSIG-guarded dynamic zones.

Every zone but ``locked.<...>`` lets ``knot-key`` update it (an ``acl`` with
``action: update``); the locked zone lists only ``knot-other``'s acl, so Knot
answers ``knot-key`` there with NOTAUTH/BADKEY, as it does for an unknown key.
"""

from __future__ import annotations

import base64

from .authbed import AuthBed, zone_text


class KnotBed(AuthBed):
    flavour = "knot"

    def _argv(self) -> list[str]:
        d = self.base
        (d / "db").mkdir(exist_ok=True)
        zones = ""
        for zone, records in self.zones.items():
            (d / f"{zone}.zone").write_text(zone_text(zone, records))
            acl = "acl-other" if zone.startswith("locked.") else "acl-key"
            zones += f"  - domain: {zone}\n    acl: {acl}\n"
        keys = "".join(f"  - id: {name}.\n    algorithm: hmac-sha256\n    secret: {base64.b64encode(secret).decode()}\n"
                       for name, secret in ((self.key_name, self.secret), (self.other_name, self.other_secret)))
        conf = d / "knot.conf"
        conf.write_text(f"""server:
    rundir: "{d}"
    pidfile: "{d}/knot.pid"
    listen: [ 127.0.0.1@{self.port} ]
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
key:
{keys}acl:
  - id: acl-key
    key: {self.key_name}.
    action: update
  - id: acl-other
    key: {self.other_name}.
    action: update
template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
zone:
{zones}""")
        return ["knotd", "-c", str(conf)]
