"""A deploy bed: a certbot config dir with a lineage, destinations and a config."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pki import Issued, Pki, write_lineage


@dataclasses.dataclass
class DeployBed:
    root: Path
    pki: Pki
    generation: int = 0

    @property
    def letsencrypt(self) -> Path:
        return self.root / "letsencrypt"

    @property
    def live(self) -> Path:
        return self.letsencrypt / "live" / "example.com"

    @property
    def dest(self) -> Path:
        return self.root / "tls"

    @property
    def config(self) -> Path:
        return self.root / "safedeploy.toml"

    def issue(self, **kw) -> Issued:
        """Write the next generation of the lineage, like a certbot renewal."""
        self.generation += 1
        leaf = self.pki.leaf("example.com", "www.example.com", **kw)
        write_lineage(str(self.letsencrypt), "example.com", leaf, [self.pki.intermediate],
                      version=self.generation)
        return leaf

    def write_config(self, target_extra: str = "", top: str = "") -> None:
        root_pem = self.pki.root_file(str(self.root))
        self.config.write_text(f"""\
trust_anchors = ["{root_pem}"]
state_dir = "{self.root / 'state'}"
backups = 2
{top}
[[target]]
name = "web"
lineage = "example.com"
files = [
  {{ path = "{self.dest}/site.crt", content = ["fullchain"] }},
  {{ path = "{self.dest}/site.key", content = ["privkey"] }},
]
{target_extra}

[[target]]
name = "haproxy"
lineage = "example.com"
files = [ {{ path = "{self.dest}/haproxy.pem", content = ["fullchain", "privkey"] }} ]
""")
        os.chmod(self.config, 0o600)

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ, RENEWED_LINEAGE=str(self.live),
                        RENEWED_DOMAINS="example.com www.example.com", SAFEDEPLOY_CONFIG=str(self.config))
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "deploy", *args],
                              env=full_env, capture_output=True, text=True, timeout=120)

    def snapshot(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.dest.iterdir()) if p.is_file()}


def served_set(bed: DeployBed) -> int:
    """Serial of the one generation all three destinations hold (key matching)."""
    from cryptography import x509

    from certbot_safedeploy.verify.keys import key_matches_certificate, load_private_key
    from certbot_safedeploy.verify.pem import expect_certificates, expect_private_key

    snap = bed.snapshot()
    blocks = expect_certificates(snap["site.crt"], at_least=2)
    leaf = x509.load_der_x509_certificate(blocks[0].der)
    key = load_private_key(expect_private_key(snap["site.key"]))
    assert key_matches_certificate(key, leaf), "key and certificate are from different generations"
    assert snap["haproxy.pem"] == snap["site.crt"] + snap["site.key"], "haproxy.pem is from another generation"
    return int(leaf.serial_number)


@pytest.fixture
def bed(tmp_path: Path) -> DeployBed:
    b = DeployBed(tmp_path, Pki.create())
    b.dest.mkdir()
    b.issue()
    b.write_config()
    return b
