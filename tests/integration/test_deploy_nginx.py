"""Deploy into a real nginx on loopback: serve the new leaf, or roll back and keep serving."""

from __future__ import annotations

import json
import ssl
import socket

import pytest
from cryptography import x509

from certbot_safedeploy.deploy import pipeline
from tests.deploy.conftest import DeployBed
from tests.pki import Pki

from .servers import Nginx, free_port


def served_serial(port: int) -> int:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="example.com") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


@pytest.fixture
def served(tmp_path):
    bed = DeployBed(tmp_path, Pki.create())
    bed.dest.mkdir()
    first = bed.issue()
    bed.write_config()
    assert bed.run().returncode == 0  # first install, nginx not running yet
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", tls_port=port, cert=bed.dest / "site.crt",
                  key=bed.dest / "site.key").start()
    assert served_serial(port) == first.cert.serial_number
    yield bed, nginx, port, first
    nginx.stop()


def _argv(argv):
    return json.dumps(list(argv))  # a JSON array of strings is a valid TOML array


def configure(bed, nginx, port, *, check=None, reload=None, timeout=5):
    check = check or nginx.check_argv()
    reload = reload or nginx.reload_argv()
    bed.write_config(
        f"check = {_argv(check)}\nreload = {_argv(reload)}\n"
        f'probe = {{ connect = "127.0.0.1:{port}", servername = "example.com", timeout = {timeout} }}')


def test_deploy_reloads_nginx_and_probe_sees_new_leaf(served):
    bed, nginx, port, first = served
    configure(bed, nginx, port)
    new = bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert "[web] 127.0.0.1:" in proc.stdout and "serves the expected certificate" in proc.stdout
    assert served_serial(port) == new.cert.serial_number != first.cert.serial_number


def test_failed_reload_rolls_back_and_old_cert_is_still_served(served, tmp_path):
    bed, nginx, port, first = served
    flag = tmp_path / "fail-next-reload"
    flag.touch()
    reload = ["sh", "-c", f'if [ -e {flag} ]; then rm {flag}; echo "reload refused"; exit 1; fi; '
              + " ".join(nginx.reload_argv())]
    configure(bed, nginx, port, reload=reload)
    before = bed.snapshot()
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stdout + proc.stderr
    assert "reload refused" in proc.stderr and "rolled back" in proc.stderr
    assert bed.snapshot() == before
    assert served_serial(port) == first.cert.serial_number


def test_failed_check_rolls_back_without_reload(served):
    bed, nginx, port, first = served
    configure(bed, nginx, port, check=["sh", "-c", "echo 'nginx: configuration test failed'; exit 1"])
    before = bed.snapshot()
    pid_before = (nginx.base / "nginx.pid").read_text()
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stderr
    assert "configuration test failed" in proc.stderr
    assert bed.snapshot() == before
    assert served_serial(port) == first.cert.serial_number
    assert "reconfiguring" not in nginx.error_log.read_text()  # no SIGHUP reached nginx
    assert (nginx.base / "nginx.pid").read_text() == pid_before


def test_probe_seeing_the_old_cert_rolls_back(served):
    bed, nginx, port, first = served
    configure(bed, nginx, port, reload=["true"], timeout=2)  # a reload that reloads nothing
    before = bed.snapshot()
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stderr
    assert "still serves another certificate" in proc.stderr
    assert bed.snapshot() == before
    assert served_serial(port) == first.cert.serial_number


def test_nginx_serving_the_leaf_without_its_chain_is_rolled_back(served):
    """The target writes cert.pem instead of fullchain.pem: the new leaf is served, but a
    client without the intermediate cached cannot validate it."""
    bed, nginx, port, first = served
    configure(bed, nginx, port)
    text = bed.config.read_text().replace('content = ["fullchain"] }', 'content = ["cert"] }', 1)
    bed.config.write_text(text)
    before = bed.snapshot()
    new = bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stdout + proc.stderr
    assert ("[web] probe failed: 127.0.0.1:" in proc.stderr
            and "the new certificate is served, but a client rejects it: the service sends no intermediate: "
                "does it read cert.pem instead of fullchain.pem?" in proc.stderr), proc.stderr
    assert "rolled back: the previous certificate is installed and served" in proc.stderr
    assert bed.snapshot() == before
    assert served_serial(port) == first.cert.serial_number != new.cert.serial_number


def test_probe_reports_a_validated_chain(served):
    bed, nginx, port, first = served
    configure(bed, nginx, port)
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert f"[web] 127.0.0.1:{port} (SNI example.com) serves the expected certificate with a chain a client " \
           "validates" in proc.stdout


def test_expired_cross_sign_after_the_chain_deploys(served):
    """Let's Encrypt's long chain: the CA appends its root cross-signed by an older root, and the
    cross-sign has expired. Clients stop at the trusted root; so do verification and the probe."""
    from tests.pki import DAY, NOW, make_cert, write_lineage

    bed, nginx, port, first = served
    configure(bed, nginx, port)
    old_root = make_cert("Old Root", ca=True, start=NOW - 4000 * DAY, end=NOW + 10 * DAY)
    cross = make_cert("Test Root", issuer=old_root, ca=True, key=bed.pki.root.key,
                      start=NOW - 900 * DAY, end=NOW - 3 * DAY)
    assert cross.cert.subject == bed.pki.root.cert.subject
    new = bed.pki.leaf("example.com", "www.example.com")
    bed.generation += 1
    write_lineage(str(bed.letsencrypt), "example.com", new, [bed.pki.intermediate, cross], version=bed.generation)
    proc = bed.run()
    assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
    assert "chain[2] (CN=Test Root" in proc.stdout and "clients ignore it (expired" in proc.stdout
    assert "serves the expected certificate with a chain a client validates" in proc.stdout
    assert served_serial(port) == new.cert.serial_number


def test_wildcard_over_a_tld_is_rolled_back_by_the_probe(served):
    """A ``*.test`` certificate covers its own name, so the lineage passes; but no client matches
    ``probe.test`` against it (OpenSSL, GnuTLS and a Python handshake refuse), and the probe
    asking for probe.test rolls the deploy back."""
    from tests.pki import write_lineage

    bed, nginx, port, first = served
    configure(bed, nginx, port)
    bed.config.write_text(bed.config.read_text().replace('servername = "example.com"', 'servername = "probe.test"'))
    before = bed.snapshot()
    wildcard = bed.pki.leaf("*.test")
    bed.generation += 1
    write_lineage(str(bed.letsencrypt), "example.com", wildcard, [bed.pki.intermediate], version=bed.generation)
    proc = bed.run(env={"RENEWED_DOMAINS": "*.test"})
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stdout + proc.stderr
    assert "[web] probe failed: 127.0.0.1:" in proc.stderr, proc.stderr
    assert "*.test is a wildcard over the top-level domain test" in proc.stderr, proc.stderr
    assert "rolled back: the previous certificate is installed and served" in proc.stderr
    assert bed.snapshot() == before
    assert served_serial(port) == first.cert.serial_number != wildcard.cert.serial_number
