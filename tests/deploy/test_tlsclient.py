"""The probe's TLS client: the served leaf and chain, on every way Python offers to read them."""

from __future__ import annotations

import ssl

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.deploy import tlsclient
from certbot_safedeploy.deploy.tlsclient import parse_certificate_message
from tests.pki import Pki

from .tlsserver import TlsServer

AVAILABLE = [s for s in tlsclient.SOURCES if s == tlsclient.chain_source() or s == "handshake message"]


def der(issued) -> bytes:
    return issued.cert.public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def pki():
    p = Pki.create("Probe")
    return p, p.leaf("example.com")


@pytest.mark.parametrize("source", AVAILABLE)
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_fetch_returns_leaf_and_chain_as_sent(tmp_path, pki, source, version):
    p, leaf = pki
    server = TlsServer(tmp_path, leaf.pem + p.intermediate.pem + p.root.pem, leaf.key_pem, max_version=version)
    try:
        served = tlsclient.fetch("127.0.0.1", server.port, "example.com", 5, source=source)
    finally:
        server.close()
    assert served.leaf == der(leaf)
    assert served.chain == (der(p.intermediate), der(p.root))
    assert served.source == source
    assert served.version == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


@pytest.mark.parametrize("source", AVAILABLE)
def test_fetch_leaf_only_has_empty_chain(tmp_path, pki, source):
    p, leaf = pki
    server = TlsServer(tmp_path, leaf.pem, leaf.key_pem)
    try:
        served = tlsclient.fetch("127.0.0.1", server.port, "example.com", 5, source=source)
    finally:
        server.close()
    assert served.leaf == der(leaf) and served.chain == ()


def test_default_source_matches_python_version():
    import sys

    expected = ("get_unverified_chain" if sys.version_info >= (3, 13) else
                "_sslobj.get_unverified_chain" if sys.version_info >= (3, 10) else "handshake message")
    assert tlsclient.chain_source() == expected


def test_nothing_listening_is_an_oserror():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        tlsclient.fetch("127.0.0.1", port, "example.com", 2)


def _entry(cert: bytes, ext: bytes = b"") -> bytes:
    return len(cert).to_bytes(3, "big") + cert + len(ext).to_bytes(2, "big") + ext


def test_parse_tls13_message_skips_context_and_extensions():
    body_list = _entry(b"A" * 5, b"\x00\x05\x00\x00") + _entry(b"BB")
    body = b"\x02ok" + len(body_list).to_bytes(3, "big") + body_list
    assert parse_certificate_message(body, tls13=True) == [b"A" * 5, b"BB"]


def test_parse_tls12_message():
    entries = b"".join(len(c).to_bytes(3, "big") + c for c in (b"leaf", b"inter"))
    assert parse_certificate_message(len(entries).to_bytes(3, "big") + entries, tls13=False) == [b"leaf", b"inter"]


@pytest.mark.parametrize("body,tls13", [
    (b"", True), (b"\x00\x00", False), (b"\x00\x00\x05abc", False),
    (b"\x00\x00\x04\x00\x00\x09a", False), (b"\x00\x00\x00\x06\x00\x00\x01a\x00", True),
    (b"\x00\x00\x00\x03\x00\x00\x00", False),
])
def test_parse_malformed_message_is_valueerror(body, tls13):
    with pytest.raises(ValueError):
        parse_certificate_message(body, tls13)


def _interpreters() -> list[str]:
    """Every CPython >= 3.9 on this machine (pyenv's and the system's): tlsclient is stdlib-only."""
    import glob
    import os
    import sys

    found = {sys.executable}
    for path in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))) + ["/usr/bin/python3"]:
        version = os.path.basename(os.path.dirname(os.path.dirname(path)))
        if os.access(path, os.X_OK) and (path == "/usr/bin/python3" or tuple(map(int, version.split(".")[:2])) >= (3, 9)):
            found.add(path)
    return sorted(found)


@pytest.mark.parametrize("python", _interpreters())
def test_every_interpreter_reads_the_chain(tmp_path, pki, python):
    import json
    import os
    import subprocess

    p, leaf = pki
    server = TlsServer(tmp_path, leaf.pem + p.intermediate.pem, leaf.key_pem)
    code = ("import json, sys; from certbot_safedeploy.deploy import tlsclient as t; "
            f"s = t.fetch('127.0.0.1', {server.port}, 'example.com', 5); "
            "print(json.dumps([s.leaf.hex(), [c.hex() for c in s.chain], s.source, sys.version_info[:2]]))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        proc = subprocess.run([python, "-I", "-c", f"import sys; sys.path.insert(0, {root!r}); {code}"],
                              capture_output=True, text=True, timeout=30)
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    leaf_hex, chain_hex, source, version = json.loads(proc.stdout)
    assert bytes.fromhex(leaf_hex) == der(leaf)
    assert [bytes.fromhex(c) for c in chain_hex] == [der(p.intermediate)]
    assert source == ("get_unverified_chain" if tuple(version) >= (3, 13) else
                      "_sslobj.get_unverified_chain" if tuple(version) >= (3, 10) else "handshake message")


def test_a_trickling_server_is_cut_off_by_the_time_budget():
    """A service that keeps sending a little never holds the probe past twice its timeout."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            while not stop.is_set():
                try:
                    conn.sendall(b"220-still here\r\n")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(OSError, match="too slow|timed out"):
            tlsclient.fetch("127.0.0.1", listener.getsockname()[1], "mail.example", 0.5, "smtp")
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)
    assert time.monotonic() - started < 2
