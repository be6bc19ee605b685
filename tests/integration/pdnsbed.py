"""PowerDNS Authoritative 4.7 (Debian ``pdns-server`` + ``pdns-backend-sqlite3``) on loopback.

``dnsupdate=yes`` with ``allow-dnsupdate-from`` loopback; both keys are imported
with ``pdnsutil import-tsig-key``; every zone but ``locked.<...>`` has
``TSIG-ALLOW-DNSUPDATE pdns-key.``, the locked one ``pdns-other.`` only.
Caches are off so an UPDATE shows in the next answer.
"""

from __future__ import annotations

import base64
import subprocess

from .authbed import AuthBed, zone_text

SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"


class PdnsBed(AuthBed):
    flavour = "pdns"

    def _pdnsutil(self, *args: str) -> None:
        subprocess.run(["pdnsutil", f"--config-dir={self.base}", *args], check=True, capture_output=True)

    def _argv(self) -> list[str]:
        d = self.base
        database = d / "pdns.sqlite3"
        with open(SCHEMA, "rb") as schema:
            subprocess.run(["sqlite3", str(database)], stdin=schema, check=True)
        (d / "pdns.conf").write_text(f"""launch=gsqlite3
gsqlite3-database={database}
local-address=127.0.0.1:{self.port}
socket-dir={d}
daemon=no
guardian=no
write-pid=no
disable-syslog=yes
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8,::1
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
zone-cache-refresh-interval=0
loglevel=6
""")
        for name, secret in ((self.key_name, self.secret), (self.other_name, self.other_secret)):
            self._pdnsutil("import-tsig-key", f"{name}.", "hmac-sha256", base64.b64encode(secret).decode())
        for zone, records in self.zones.items():
            path = d / f"{zone}.zone"
            path.write_text(zone_text(zone, records))
            self._pdnsutil("load-zone", zone, str(path))
            allowed = self.other_name if zone.startswith("locked.") else self.key_name
            self._pdnsutil("set-meta", zone, "TSIG-ALLOW-DNSUPDATE", f"{allowed}.")
        return ["pdns_server", f"--config-dir={d}"]
