"""doctor and adopt find client use (nginx proxy_ssl_certificate) with file and line."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.doctor.test_traps import _nginx
from tests.pki import write_lineage

BOTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


def _proxy_nginx(etc, live):
    conf = _nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem")
    text = conf.read_text().replace(" }\n}\n", f"  location / {{ proxy_ssl_certificate {live}/fullchain.pem;\n"
                                    f"   proxy_ssl_certificate_key {live}/privkey.pem; }}\n }}\n}}\n")
    conf.write_text(text)
    return conf


def test_doctor_reports_client_use_of_live_files_and_a_cert_without_client_auth(etc):
    live = etc.lineage("a.example")  # serverAuth only
    conf = _proxy_nginx(etc, live)
    findings = [f for f in etc.findings("--service-config", f"nginx={conf}") if f[1] == "client-use"]
    assert [s for s, _, _ in findings] == ["warning", "error"]
    assert f"nginx proxy_ssl_certificate presents {live}/fullchain.pem as a TLS client certificate" in findings[0][2]
    assert "has no clientAuth" in findings[1][2]
    proc = etc.run("--service-config", f"nginx={conf}")
    assert f"WARNING: {conf}:9: client-use:" in proc.stdout


def test_doctor_is_quiet_about_client_auth_when_the_cert_has_it(etc):
    live = etc.lineage("a.example")
    leaf = etc.pki.leaf("a.example", extensions=[(BOTH, False)])
    write_lineage(str(etc.le), "a.example", leaf, [etc.pki.intermediate], version=2)
    conf = _proxy_nginx(etc, live)
    findings = [f for f in etc.findings("--service-config", f"nginx={conf}") if f[1] == "client-use"]
    assert [s for s, _, _ in findings] == ["warning"]


def test_adopt_declares_the_client_use(etc):
    live = etc.lineage("a.example")
    conf = _proxy_nginx(etc, live)
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "adopt", "a.example", "--config-dir",
                           str(etc.le), "--config", str(etc.config), "--system-root", str(etc.root),
                           "--service-config", f"nginx={conf}"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'uses = ["server", "client"]' in proc.stdout
    assert f"{conf}:9: point proxy_ssl_certificate at" in proc.stdout
    etc.config.write_text("")
    os.chmod(etc.config, 0o600)
    written = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "adopt", "a.example", "--config-dir",
                              str(etc.le), "--config", str(etc.config), "--system-root", str(etc.root),
                              "--service-config", f"nginx={conf}", "--write"], capture_output=True, text=True,
                             timeout=60)
    assert written.returncode == 0, written.stderr
    from certbot_safedeploy.config.load import parse_config

    (target,) = parse_config(etc.config.read_text(), str(etc.config)).targets
    assert target.uses == ("server", "client")
