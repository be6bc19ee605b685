"""`verify --connect`: a running TLS server's leaf and chain, judged as a client would."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.deploy.tlsserver import TlsServer, line_prelude
from tests.pki import Pki


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "verify", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def pki():
    return Pki.create("Connect")


@pytest.fixture
def anchors(tmp_path, pki):
    return pki.root_file(str(tmp_path))


def serve(tmp_path, pki, *, chain: bool = True, **kw) -> TlsServer:
    leaf = pki.leaf("example.com", "www.example.com")
    return TlsServer(tmp_path, leaf.pem + (pki.intermediate.pem if chain else b""), leaf.key_pem, **kw)


def test_good_chain_is_ok(tmp_path, pki, anchors):
    server = serve(tmp_path, pki)
    try:
        proc = verify("--connect", f"127.0.0.1:{server.port}", "--servername", "www.example.com",
                      "--trust-anchor", anchors, "-v")
    finally:
        server.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    where = f"127.0.0.1:{server.port} (SNI www.example.com)"
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith(f"OK: {where}: handshake: TLSv1.3; sent 2 certificate(s): CN=example.com (expires ")
    assert "CN=Connect Intermediate (expires " in lines[0] and "; decided by " in lines[0]
    assert lines[-1] == f"{where}: OK (0 error(s), 0 warning(s))"


def test_leaf_only_names_the_cause_one_line_per_finding(tmp_path, pki, anchors):
    server = serve(tmp_path, pki, chain=False)
    try:
        proc = verify("--connect", f"127.0.0.1:{server.port}", "--servername", "example.com",
                      "--trust-anchor", anchors)
    finally:
        server.close()
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    where = f"127.0.0.1:{server.port} (SNI example.com)"
    assert lines[0] == (f"ERROR: {where}: served-chain: the service sends no intermediate: does it read cert.pem "
                        "instead of fullchain.pem?")
    assert all(line.startswith(("ERROR: ", "WARNING: ")) for line in lines[:-1])
    assert lines[-1].startswith(f"{where}: FAILED (")


def test_system_bundle_does_not_trust_a_private_ca(tmp_path, pki):
    server = serve(tmp_path, pki)
    try:
        proc = verify("--connect", f"127.0.0.1:{server.port}", "--servername", "example.com", "--json")
    finally:
        server.close()
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["tls_version"] == "TLSv1.3" and len(data["sent"]) == 2
    assert any(f["check"] == "trust" and f["severity"] == "error" for f in data["findings"])


def test_starttls_ftp_over_a_scripted_server(tmp_path, pki, anchors):
    script = [(None, b"220 ftp ready\r\n"), (b"AUTH TLS", b"234 go\r\n")]
    server = serve(tmp_path, pki, prelude=line_prelude(script))
    try:
        proc = verify("--connect", f"127.0.0.1:{server.port}", "--servername", "example.com",
                      "--starttls", "ftp", "--trust-anchor", anchors)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("via STARTTLS/ftp): OK (0 error(s), 0 warning(s))")


def test_nothing_listening_is_one_error_line(anchors):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = verify("--connect", f"127.0.0.1:{port}", "--trust-anchor", anchors, "--timeout", "2")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"ERROR: 127.0.0.1:{port} (SNI 127.0.0.1): connect: no TLS "
                                                   "handshake: ")
    assert "fix: is the service running, on this port, with TLS enabled?" in lines[0]


@pytest.mark.parametrize("args,message", [
    (["--connect", "127.0.0.1:notaport"], "is not HOST:PORT"),
    (["--connect", "127.0.0.1:443", "/etc/letsencrypt/live/x"], "verify takes one of"),
    ([], "verify takes one of: a lineage directory"),
])
def test_usage_errors_exit_2(args, message):
    proc = verify(*args)
    assert proc.returncode == 2 and message in proc.stderr


@pytest.mark.parametrize("name", [".leading.example", "a" * 70 + ".example"])
def test_an_unusable_servername_is_one_line(tmp_path, pki, anchors, name):
    server = serve(tmp_path, pki)
    try:
        proc = verify("--connect", f"127.0.0.1:{server.port}", "--servername", name, "--trust-anchor", anchors)
    finally:
        server.close()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "as SNI" in proc.stdout.splitlines()[0]
