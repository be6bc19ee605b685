"""pebble (Debian) on loopback, resolving through our BIND, and a certbot runner."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .servers import Process, free_port, wait_tcp

# Debian 13's pebble 2.6, which serves renewalInfo (RFC 9773): unpacked by scripts/fetch-pebble26
PEBBLE26 = Path(__file__).resolve().parents[2] / ".pebble26" / "usr" / "bin" / "pebble"
EAB_KID = "kid-1"
EAB_HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"


def make_listener_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a localhost/127.0.0.1/::1 certificate for pebble's HTTPS listeners."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "safedeploy test listener CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False)
            # Python 3.13's ssl verifies strictly (VERIFY_X509_STRICT): it wants the AKI
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "listener-ca.pem", directory / "listener.pem", directory / "listener.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class Pebble:
    def __init__(self, base: Path, dns_server: str, *, http_port: int, eab: bool = False,
                 binary: str = "pebble") -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.binary = binary  # Debian 12's pebble 2.4 on PATH, or trixie's 2.6 (PEBBLE26) for ARI
        self.listener_ca, cert, key = make_listener_cert(base)
        self.port, self.mgmt_port = free_port(), free_port()
        self.http_port = http_port
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": str(cert), "privateKey": str(key),
            "httpPort": http_port, "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": eab,
            **({"externalAccountMACKeys": {EAB_KID: EAB_HMAC}} if eab else {}),
        }}
        (base / "pebble.json").write_text(json.dumps(config))
        self.dns_server = dns_server
        self.process: Process | None = None

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    @property
    def log(self) -> Path:
        return self.base / "pebble.log"

    def start(self) -> "Pebble":
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.process = Process([self.binary, "-config", str(self.base / "pebble.json"),
                                "-dnsserver", self.dns_server], self.log, env=env)
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.log)
        wait_tcp("127.0.0.1", self.mgmt_port, proc=self.process.proc, log=self.log)
        return self

    def issuing_roots(self) -> Path:
        """pebble's issuing root (new at every start), from the management port."""
        ctx = ssl.create_default_context(cafile=str(self.listener_ca))
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mgmt_port}/roots/0", context=ctx) as r:
            pem = r.read()
        path = self.base / "issuing-root.pem"
        path.write_bytes(pem)
        return path

    def stop(self) -> None:
        if self.process:
            self.process.stop()


class Certbot:
    """Runs a certbot executable against pebble with its own config/work/logs dirs."""

    def __init__(self, base: Path, pebble: Pebble, executable: str | None = None) -> None:
        self.base = base
        self.pebble = pebble
        self.executable = executable or str(Path(sys.executable).parent / "certbot")
        for d in ("config", "work", "logs"):
            (base / d).mkdir(parents=True, exist_ok=True)

    @property
    def config_dir(self) -> Path:
        return self.base / "config"

    def live(self, name: str) -> Path:
        return self.config_dir / "live" / name

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        argv = [self.executable, *args,
                "--server", self.pebble.directory_url,
                "--config-dir", str(self.config_dir), "--work-dir", str(self.base / "work"),
                "--logs-dir", str(self.base / "logs"), "--non-interactive", "--agree-tos"]
        if args and args[0] == "renew":
            argv.append("--no-random-sleep-on-renew")
        else:
            argv.append("--register-unsafely-without-email")
        full_env = dict(os.environ, REQUESTS_CA_BUNDLE=str(self.pebble.listener_ca))
        full_env.update(env or {})
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env)

    def certonly(self, domains: Sequence[str], *extra: str, name: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        args = ["certonly", "--cert-name", name or domains[0].lstrip("*.")]
        for d in domains:
            args += ["-d", d]
        return self.run(*args, *extra, env=env)

    def log_text(self) -> str:
        path = self.base / "logs" / "letsencrypt.log"
        return path.read_text() if path.exists() else ""
