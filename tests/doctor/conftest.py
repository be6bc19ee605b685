"""A fake /etc/letsencrypt and system root for doctor."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pki import DAY, NOW, Pki, write_lineage


@dataclasses.dataclass
class Etc:
    root: Path
    pki: Pki

    @property
    def le(self) -> Path:
        return self.root / "etc" / "letsencrypt"

    @property
    def config(self) -> Path:
        return self.le / "safedeploy.toml"

    def lineage(self, name: str, *, authenticator: str = "webroot", params: str = "",
                days_left: float = 80, top: str = "") -> Path:
        leaf = self.pki.leaf(name, start=NOW - (90 - days_left) * DAY, end=NOW + days_left * DAY)
        live = Path(write_lineage(str(self.le), name, leaf, [self.pki.intermediate]))
        (self.le / "renewal").mkdir(exist_ok=True)
        (self.le / "renewal" / f"{name}.conf").write_text(f"""version = 2.1.0
archive_dir = {self.le}/archive/{name}
cert = {live}/cert.pem
privkey = {live}/privkey.pem
chain = {live}/chain.pem
fullchain = {live}/fullchain.pem
{top}
# Options used in the renewal process
[renewalparams]
account = 0123456789abcdef
authenticator = {authenticator}
server = https://acme-v02.api.letsencrypt.org/directory
{params}
""")
        return live

    def timer(self) -> None:
        wants = self.root / "etc/systemd/system/timers.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "certbot.timer").symlink_to("/lib/systemd/system/certbot.timer")

    def cron(self, name: str, text: str) -> None:
        path = self.root / "etc/cron.d" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "doctor", "--config-dir", str(self.le),
                               "--config", str(self.config), "--system-root", str(self.root), *args],
                              capture_output=True, text=True, timeout=120)

    def findings(self, *args: str) -> list[tuple[str, str, str]]:
        proc = self.run("--json", *args)
        data = json.loads(proc.stdout)
        return [(f["severity"], f["check"], f["message"]) for f in data["findings"]]


@pytest.fixture
def etc(tmp_path: Path) -> Etc:
    e = Etc(tmp_path, Pki.create())
    e.le.mkdir(parents=True)
    os.chmod(e.le, 0o755)
    return e
