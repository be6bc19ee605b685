"""Hostile servers on loopback for every protocol the probe speaks (and DNS, and the HTTP self-check).

The client ends with its one error within its timeout; ``verify --connect`` prints
one line; a deploy whose probe meets such a server rolls back, exits 3 and calls
``[notify]``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fuzz.hostile import BEHAVIOURS, PROTOCOLS, HostileServer

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 1.0


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_probe_ends_with_an_oserror_within_its_time(protocol, behaviour):
    from certbot_safedeploy.deploy.tlsclient import fetch

    server = HostileServer(protocol, behaviour)
    try:
        started = time.monotonic()
        with pytest.raises(OSError):
            fetch("127.0.0.1", server.port, "example.com", TIMEOUT, None if protocol == "tls" else protocol)
        assert time.monotonic() - started < 2 * TIMEOUT + 1.0  # fetch's budget is twice the timeout
    finally:
        server.close()


@pytest.mark.parametrize("protocol,behaviour", [("smtp", b) for b in BEHAVIOURS] + [("tls", "garbage"),
                                                                                   ("tls", "alert")])
def test_verify_connect_prints_one_line_within_its_timeout(protocol, behaviour):
    server = HostileServer(protocol, behaviour)
    try:
        argv = [sys.executable, "-m", "certbot_safedeploy", "verify", "--connect", f"127.0.0.1:{server.port}",
                "--servername", "example.com", "--timeout", str(TIMEOUT)]
        if protocol != "tls":
            argv += ["--starttls", protocol]
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=REPO)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if l.strip()]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert 1 <= len(lines) <= 2, lines  # the error, and the verdict line
    assert elapsed < 2 * TIMEOUT + 8  # the interpreter's start-up is most of it


@pytest.mark.parametrize("protocol,behaviour", [("smtp", b) for b in BEHAVIOURS] + [("tls", "garbage"),
                                                                                   ("tls", "alert")])
def test_a_deploy_whose_probe_meets_a_hostile_server_rolls_back_and_notifies(bed, tmp_path, protocol, behaviour):
    old = bed.pki.leaf("example.com", "www.example.com")
    served = tmp_path / "served"
    served.mkdir()
    (served / "chain.pem").write_bytes(old.pem + bed.pki.intermediate.pem)
    (served / "key.pem").write_bytes(old.key_pem)
    mode = tmp_path / "hostile"  # present: the server misbehaves (the "reload" of the new files broke it)
    server = HostileServer(protocol, behaviour, cert_file=str(served / "chain.pem"),
                           key_file=str(served / "key.pem"), mode_file=mode)
    report = tmp_path / "report.json"
    starttls = "" if protocol == "tls" else f', starttls = "{protocol}"'
    toggle = f"if [ -e {mode} ]; then rm {mode}; else touch {mode}; fi"
    bed.write_config(target_extra=f'''reload = ["/bin/sh", "-c", "{toggle}"]
probe = {{ connect = "127.0.0.1:{server.port}", servername = "example.com", timeout = {TIMEOUT}{starttls} }}
''', top=f'''[notify]
command = ["/bin/sh", "-c", "cat > {report}"]
''')
    before = bed.snapshot()
    try:
        started = time.monotonic()
        proc = bed.run()
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "rolled back: the previous certificate is installed and served" in proc.stderr
    assert bed.snapshot() == before
    sent = json.loads(report.read_text())
    assert sent["exit_code"] == 3 and sent["step"] == "deploy", sent
    assert elapsed < 30


# -- DNS -----------------------------------------------------------------------------------------------------
class HostileDns:
    """UDP and TCP on one port: ``garbage``, ``digits`` (a reply of text), ``silent``, ``abrupt``, ``slowloris``."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.closed = False
        threading.Thread(target=self._udp, daemon=True).start()
        threading.Thread(target=self._tcp, daemon=True).start()

    def _payload(self, query: bytes) -> bytes:
        return {"garbage": query[:2] + os.urandom(40), "digits": query[:2] + "²²⁰ ready".encode()}.get(
            self.behaviour, b"")

    def _udp(self) -> None:
        while not self.closed:
            try:
                query, peer = self.udp.recvfrom(4096)
                if self.behaviour in ("garbage", "digits"):
                    self.udp.sendto(self._payload(query), peer)
            except (OSError, TypeError):
                return

    def _tcp(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_one, args=(conn,), daemon=True).start()

    def _tcp_one(self, conn: socket.socket) -> None:
        with conn:
            try:
                query = conn.recv(4096)[2:]
                if self.behaviour == "abrupt":
                    return
                if self.behaviour == "slowloris":
                    for _ in range(100):
                        conn.sendall(b"\x00")
                        time.sleep(0.2)
                elif self.behaviour != "silent":
                    body = self._payload(query)
                    conn.sendall(len(body).to_bytes(2, "big") + body)
                time.sleep(3)
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        for s in (self.tcp, self.udp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.mark.parametrize("behaviour", ["garbage", "digits", "silent", "abrupt", "slowloris"])
def test_dns_queries_and_updates_end_in_a_challenge_error_within_the_timeout(behaviour):
    from certbot_safedeploy.challenges.dnsclient import DnsClient
    from certbot_safedeploy.errors import ChallengeError

    server = HostileDns(behaviour)
    try:
        client = DnsClient(f"127.0.0.1:{server.port}", None, timeout=TIMEOUT)
        for call in (lambda: client.query("example.com", "SOA"),
                     lambda: client.update("example.com", [("_acme-challenge.example.com", "v")])):
            started = time.monotonic()
            with pytest.raises(ChallengeError):
                call()
            assert time.monotonic() - started < TIMEOUT + 1.0
    finally:
        server.close()


# -- the HTTP self-check -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("behaviour", ["garbage", "endless", "slowloris", "abrupt", "digits"])
def test_the_http_self_check_ends_within_its_timeout(behaviour):
    from certbot_safedeploy.challenges.httpcheck import check_served

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(4096)
                    if behaviour == "garbage":
                        conn.sendall(os.urandom(200) + b"\r\n\r\n")
                    elif behaviour == "digits":
                        conn.sendall("HTTP/1.1 ²⁰⁰ OK\r\nContent-Length: ٣\r\n\r\nabc".encode())
                    elif behaviour == "endless":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nX: ")
                        for _ in range(400):
                            conn.sendall(b"x" * 65536)
                    elif behaviour == "slowloris":
                        for _ in range(100):
                            conn.sendall(b"H")
                            time.sleep(0.2)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        started = time.monotonic()
        results = check_served("example.com", "tok", "tok.thumb", port=port, address="127.0.0.1", timeout=TIMEOUT)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert results and not any(r.ok for r in results)
    assert elapsed < 2 * TIMEOUT + 1.5, elapsed
