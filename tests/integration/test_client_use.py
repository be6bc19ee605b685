"""Real services that present the target's certificate as a TLS client certificate.

A Postfix whose ``smtp_tls_cert_file`` and an nginx whose ``proxy_ssl_certificate``
read the target's files: a renewal without clientAuth (Let's Encrypt ``classic``
since 2026-02-11) is refused, and the service keeps the old certificate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certbot_safedeploy.deploy import pipeline
from tests.pki import Pki, write_lineage

from .servers import Nginx, free_port
from .services_mail import Postfix, traversable_dir
from .services_oracle import served_leaf

NAME = "example.com"
BOTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


class Bed:
    def __init__(self, root: Path) -> None:
        self.root, self.pki, self.generation, self.port = root, Pki.create(), 0, free_port()
        self.tls = root / "tls"
        self.tls.mkdir()
        (root / "root.pem").write_bytes(self.pki.root.pem)

    @property
    def live(self) -> Path:
        return self.root / "le" / "live" / NAME

    def issue(self, client_auth: bool) -> int:
        self.generation += 1
        leaf = self.pki.leaf(NAME, extensions=[(BOTH, False)] if client_auth else [])
        write_lineage(str(self.root / "le"), NAME, leaf, [self.pki.intermediate], version=self.generation)
        return int(leaf.cert.serial_number)

    def seed(self) -> None:
        """The files a first deploy (or adopt) put there, before the service starts."""
        shutil.copy(self.live / "fullchain.pem", self.tls / "fullchain.pem")
        shutil.copy(self.live / "privkey.pem", self.tls / "privkey.pem")
        os.chmod(self.tls / "privkey.pem", 0o600)

    def config(self, target: str) -> None:
        path = self.root / "safedeploy.toml"
        path.write_text(f"""trust_anchors = ["{self.root / 'root.pem'}"]
state_dir = "{self.root / 'state'}"
[[target]]
name = "svc"
lineage = "{NAME}"
files = [
  {{ path = "{self.tls}/fullchain.pem", content = ["fullchain"] }},
  {{ path = "{self.tls}/privkey.pem", content = ["privkey"] }},
]
{target}
""")
        os.chmod(path, 0o600)

    def deploy(self) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, RENEWED_LINEAGE=str(self.live), RENEWED_DOMAINS=NAME,
                   SAFEDEPLOY_CONFIG=str(self.root / "safedeploy.toml"))
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "deploy"], env=env,
                              capture_output=True, text=True, timeout=120)

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.tls.iterdir() if p.is_file()}


@pytest.fixture
def bed() -> Iterator[Bed]:
    root = traversable_dir("safedeploy-client-")
    yield Bed(root)
    shutil.rmtree(root, ignore_errors=True)


def test_postfix_smtp_client_certificate_keeps_client_auth(bed: Bed) -> None:
    bed.issue(client_auth=True)
    bed.seed()
    postfix = Postfix(bed.root / "postfix", bed.port, str(bed.tls / "fullchain.pem"), str(bed.tls / "privkey.pem"))
    with open(postfix.config / "main.cf", "a") as handle:
        handle.write(f"smtp_tls_cert_file = {bed.tls}/fullchain.pem\nsmtp_tls_key_file = {bed.tls}/privkey.pem\n")
    probe = json.dumps(f"127.0.0.1:{bed.port}")
    bed.config(f'service = {{ name = "postfix", config = "{postfix.config}" }}\n'
               f'probe = {{ connect = {probe}, servername = "{NAME}", starttls = "smtp" }}')
    postfix.start()
    try:
        kept = bed.issue(client_auth=True)
        proc = bed.deploy()
        assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
        assert served_leaf("smtp", bed.port).serial_number == kept
        before = bed.files()
        bed.issue(client_auth=False)
        proc = bed.deploy()
        assert proc.returncode == pipeline.REFUSED, proc.stdout + proc.stderr
        assert f"postfix smtp_tls_cert_file ({postfix.config}/main.cf:" in proc.stderr
        assert "still has clientAuth and is valid for" in proc.stderr
        assert bed.files() == before
        assert served_leaf("smtp", bed.port).serial_number == kept
    finally:
        postfix.stop()


def test_nginx_proxy_ssl_certificate_keeps_client_auth(bed: Bed) -> None:
    bed.issue(client_auth=True)
    bed.seed()
    nginx = Nginx(bed.root / "nginx", tls_port=bed.port, cert=bed.tls / "fullchain.pem", key=bed.tls / "privkey.pem",
                  extra_tls=f"location /up {{ proxy_pass https://127.0.0.1:1;\n"
                            f"  proxy_ssl_certificate {bed.tls}/fullchain.pem;\n"
                            f"  proxy_ssl_certificate_key {bed.tls}/privkey.pem; }}")
    bed.config(f'service = {{ name = "nginx", config = "{nginx.conf}" }}\n'
               f"check = {json.dumps(nginx.check_argv())}\nreload = {json.dumps(nginx.reload_argv())}\n"
               f'probe = {{ connect = "127.0.0.1:{bed.port}", servername = "{NAME}" }}')
    nginx.start()
    try:
        kept = bed.issue(client_auth=True)
        proc = bed.deploy()
        assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
        before = bed.files()
        bed.issue(client_auth=False)
        proc = bed.deploy()
        assert proc.returncode == pipeline.REFUSED, proc.stdout + proc.stderr
        assert f"nginx proxy_ssl_certificate ({nginx.conf}:" in proc.stderr
        assert bed.files() == before
        assert served_leaf(None, bed.port).serial_number == kept
    finally:
        nginx.stop()
