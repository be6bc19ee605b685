"""A fleet bed on SQLite: one central config and server configs sharing one store file."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.config.load import load_config
from certbot_safedeploy.fleet.localstate import LocalFleet
from certbot_safedeploy.config.fleet_section import settings_from_table
from certbot_safedeploy.fleet import central
from certbot_safedeploy.fleet.db.store import Store
from certbot_safedeploy.fleet.db.wire import DirectStore
from tests.pki import Pki

FAKE_CERTBOT = str(Path(__file__).with_name("fake_certbot.py"))


@dataclasses.dataclass
class FleetBed:
    root: Path
    pki: Pki
    store_url: str

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    def server_config(self, server: str, names: tuple[str, ...] = ("site",), extra: str = "",
                      store: str | None = None) -> Path:
        base = self.root / server
        (base / "tls").mkdir(parents=True, exist_ok=True)
        targets = "".join(f"""
[[target]]
name = "{n}-files"
lineage = "{n}"
files = [
  {{ path = "{base}/tls/{n}.crt", content = ["fullchain"] }},
  {{ path = "{base}/tls/{n}.key", content = ["privkey"] }},
]
{extra}
""" for n in names)
        path = base / "safedeploy.toml"
        path.write_text(f"""\
trust_anchors = ["{self.pki.root_file(str(self.root))}"]
state_dir = "{base}/state"
[fleet]
store = "{store or self.store_url}"
server = "{server}"
certbot = ["{sys.executable}", "{FAKE_CERTBOT}", "{self.ca_dir}"]
{targets}""")
        os.chmod(path, 0o600)
        return path

    def open(self, config_path: Path) -> tuple:
        config = load_config(str(config_path))
        settings = config.fleet
        return config, settings, Store.open(settings), LocalFleet(settings.key_dir)

    def allow(self, config_path: Path, server: str, *domains: str) -> None:
        """The central host's `fleet allow` (on SQLite any config reaches the one store file)."""
        args = [a for d in domains for a in ("--domain", d)]
        r = self.cli(config_path, "allow", server, *args)
        assert r.returncode == 0, r.stderr

    def cli(self, config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", *args,
                               "--config", str(config_path)],
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def fleet(tmp_path: Path) -> FleetBed:
    pki = Pki.create("Fleet")
    ca = tmp_path / "ca"
    ca.mkdir()
    (ca / "inter.pem").write_bytes(pki.intermediate.pem)
    (ca / "inter.key").write_bytes(pki.intermediate.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return FleetBed(tmp_path, pki, f"sqlite:///{tmp_path}/fleet.db")


def now() -> int:
    return int(time.time())


@pytest.fixture
def settings(tmp_path):
    return settings_from_table({"store": str(tmp_path / "f.db"), "server": "w"}, str(tmp_path))


@pytest.fixture
def store(settings):
    s = Store.open(settings)
    s.migrate()
    central.allow(s, "web1", ["a.example"], 1)
    central.allow(s, "web2", ["a.example"], 1)
    yield s
    s.close()


@pytest.fixture
def direct(settings, store):
    d = DirectStore(settings)
    yield d
    d.close()
