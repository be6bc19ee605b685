"""The README's first command: issue with certbot -a safedeploy, deploy, serve, show.

Everything runs on loopback in a private network namespace: BIND (primary and
secondary), pebble resolving through the secondary, nginx serving the webroot on
pebble's http-01 port and TLS with the deployed files.  Everything it starts is
stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography import x509  # noqa: E402

from certbot_safedeploy.commands.hookscripts import render  # noqa: E402
from tests.integration.acmebed import Certbot, Pebble  # noqa: E402
from tests.integration.dnsbed import DnsBed  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402
from tests.integration.servers import Nginx, free_port  # noqa: E402
from tests.pki import Pki  # noqa: E402

NAMES = ["demo.example.test", "*.example.test"]


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def main() -> int:
    enter_private_netns()
    base = Path(tempfile.mkdtemp(prefix="safedeploy-demo-"))
    started: list = []
    try:
        step("starting BIND (primary 127.0.0.1, secondary 127.0.0.2), nginx and pebble on loopback")
        dns = DnsBed(base / "dns", lag=1.0).start()
        started.append(dns)
        webroot = base / "webroot"
        webroot.mkdir()
        tls_dir = base / "tls"
        tls_dir.mkdir()
        # the certificate the site had before: a self-signed placeholder
        placeholder = Pki.create("Placeholder").leaf("demo.example.test")
        (tls_dir / "demo.crt").write_bytes(placeholder.pem)
        (tls_dir / "demo.key").write_bytes(placeholder.key_pem)
        os.chmod(tls_dir / "demo.key", 0o600)
        http_port, tls_port = free_port(), free_port()
        nginx = Nginx(base / "nginx", http_port=http_port, webroot=webroot, tls_port=tls_port,
                      cert=tls_dir / "demo.crt", key=tls_dir / "demo.key").start()
        started.append(nginx)
        pebble = Pebble(base / "pebble", f"127.0.0.2:{dns.port}", http_port=http_port).start()
        started.append(pebble)
        print(f"    DNS port {dns.port}, pebble {pebble.directory_url}, nginx http {http_port} / https {tls_port}")

        certbot = Certbot(base / "certbot", pebble)
        root = pebble.issuing_roots()
        config = base / "safedeploy.toml"
        config.write_text(f"""\
trust_anchors = ["{root}"]
state_dir = "{base / 'state'}"

[[target]]
name = "nginx"
lineage = "demo.example.test"
files = [
  {{ path = "{tls_dir}/demo.crt", content = ["fullchain"] }},
  {{ path = "{tls_dir}/demo.key", content = ["privkey"] }},
]
check = {json.dumps(nginx.check_argv())}
reload = {json.dumps(nginx.reload_argv())}
probe = {{ connect = "127.0.0.1:{tls_port}", servername = "demo.example.test", timeout = 10 }}
""")
        os.chmod(config, 0o600)
        hook_dir = certbot.config_dir / "renewal-hooks" / "deploy"
        hook_dir.mkdir(parents=True)
        hook = hook_dir / "50-safedeploy"
        hook.write_text(render("deploy", sys.executable))
        hook.chmod(0o755)
        print(f"    deploy hook installed at {hook}")

        step(f"certbot certonly -a safedeploy -d {' -d '.join(NAMES)}  (http-01 by webroot + dns-01 wildcard)")
        args = ["-a", "safedeploy",
                "--safedeploy-webroot-map", json.dumps({"demo.example.test": str(webroot)}),
                "--safedeploy-http-port", str(http_port), "--safedeploy-self-check-address", "127.0.0.1",
                "--safedeploy-nsupdate-server", "127.0.0.1", "--safedeploy-dns-port", str(dns.port),
                "--safedeploy-tsig-key", str(dns.key_file), "--deploy-hook", str(hook)]
        proc = certbot.certonly(NAMES, *args, name="demo.example.test",
                                env={"SAFEDEPLOY_CONFIG": str(config)})
        print(proc.stdout.strip())
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1

        step("certbot-safedeploy verify (against pebble's issuing root)")
        verify = subprocess.run([str(Path(sys.executable).parent / "certbot-safedeploy"), "verify",
                                 str(certbot.live("demo.example.test")), "--trust-anchor", str(root),
                                 "--domain", "demo.example.test", "--domain", "www.example.test"],
                                capture_output=True, text=True)
        print(verify.stdout.strip())

        step(f"what nginx serves on 127.0.0.1:{tls_port} for SNI demo.example.test")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(root))
        ctx.check_hostname = False  # names are *.example.test, checked by verify above
        with socket.create_connection(("127.0.0.1", tls_port)) as raw:
            with ctx.wrap_socket(raw, server_hostname="demo.example.test") as tls:
                served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        live = x509.load_pem_x509_certificate((certbot.live("demo.example.test") / "cert.pem").read_bytes())
        sans = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        print(f"    subject   {served.subject.rfc4514_string()}")
        print(f"    names     {', '.join(sans.get_values_for_type(x509.DNSName))}")
        print(f"    issuer    {served.issuer.rfc4514_string()}")
        print(f"    serial    {served.serial_number:x}")
        print(f"    not after {served.not_valid_after_utc.isoformat()}")
        print("    chain verified against pebble's root by the TLS handshake: yes")
        same = served.serial_number == live.serial_number
        print(f"    same certificate as live/demo.example.test/cert.pem: {'yes' if same else 'NO'}")
        return 0 if same and verify.returncode == 0 else 1
    finally:
        step("stopping everything the demo started")
        for server in reversed(started):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
