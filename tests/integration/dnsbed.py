"""BIND 9 test bed: a primary with a TSIG key and dynamic zones, and a secondary.

Zones (both servers, port ``port``; primary 127.0.0.1, secondary 127.0.0.2):

* ``example.test``: NS ns1 (127.0.0.1) and ns2 (127.0.0.2); A records for the test
  names; ``_acme-challenge.cname`` is a CNAME into ``delegate.test``.
* ``delegate.test``: the zone CNAME-delegated validation lands in.
* ``locked.test``: no update-policy, so updates are REFUSED.

The secondary pulls transfers through :class:`DelayProxy`, which holds every
TCP connection for ``lag`` seconds: a guaranteed minimum propagation lag.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

from .servers import Process, free_port

KEY_NAME = "acme-key"
ZONES = ("example.test", "delegate.test", "locked.test")
A_RECORDS = ("www", "web", "web2", "mixed", "cname", "nodns", "bad", "demo")


def zone_text(zone: str) -> str:
    lines = [
        "$TTL 1",
        f"@ IN SOA ns1.example.test. hostmaster.example.test. 1 1 1 3600 1",
        "  IN NS ns1.example.test.",
        "  IN NS ns2.example.test.",
    ]
    if zone == "example.test":
        lines += ["ns1 IN A 127.0.0.1", "ns2 IN A 127.0.0.2", "@ IN A 127.0.0.1"]
        lines += [f"{n} IN A 127.0.0.1" for n in A_RECORDS]
        lines += ["_acme-challenge IN TXT \"keep-me\"",
                  "_acme-challenge.cname IN CNAME _acme-challenge.cname.delegate.test.",
                  "_acme-challenge.loop IN CNAME _acme-challenge.loop2.example.test.",
                  "_acme-challenge.loop2 IN CNAME _acme-challenge.loop.example.test."]
    return "\n".join(lines) + "\n"


class DelayProxy:
    """Forward UDP at once and TCP after ``lag`` seconds, to a DNS server on loopback."""

    def __init__(self, upstream: tuple[str, int], lag: float) -> None:
        self.upstream, self.lag = upstream, lag
        self.port = free_port()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.closed = False
        for target in (self._tcp_loop, self._udp_loop):
            threading.Thread(target=target, daemon=True).start()

    def _udp_loop(self) -> None:
        while not self.closed:
            try:
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._udp_one, args=(data, client), daemon=True).start()

    def _udp_one(self, data: bytes, client: tuple[str, int]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(3)
            try:
                up.sendto(data, self.upstream)
                self.udp.sendto(up.recv(65535), client)
            except OSError:
                pass

    def _tcp_loop(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_one, args=(conn,), daemon=True).start()

    def _tcp_one(self, conn: socket.socket) -> None:
        time.sleep(self.lag)
        try:
            up = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            conn.close()
            return

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while chunk := a.recv(65536):
                    b.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(up, conn), daemon=True).start()
        pipe(conn, up)

    def close(self) -> None:
        self.closed = True
        self.tcp.close()
        self.udp.close()


class DnsBed:
    def __init__(self, base: Path, *, lag: float = 0.0, notify: bool = False) -> None:
        self.base = base
        self.port = free_port("127.0.0.1")
        self.key_file = base / "acme.key"
        base.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tsig-keygen", "-a", "hmac-sha256", KEY_NAME], check=True,
                       stdout=open(self.key_file, "w"))
        self.key_file.chmod(0o600)
        self.lag = lag
        self.notify = notify  # NOTIFY the secondary at once (BIND's production default)
        self.proxy: DelayProxy | None = None
        self.processes: list[Process] = []

    def _write_primary(self) -> Path:
        d = self.base / "primary"
        d.mkdir(exist_ok=True)
        zones = ""
        for zone in ZONES:
            (d / f"{zone}.db").write_text(zone_text(zone))
            policy = "" if zone == "locked.test" else f"update-policy {{ grant {KEY_NAME} zonesub TXT; }};"
            zones += f'zone "{zone}" {{ type primary; file "{zone}.db"; {policy} }};\n'
        conf = d / "named.conf"
        conf.write_text(f"""
options {{
    directory "{d}";
    pid-file none;
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    {"notify explicit; notify-delay 0; also-notify { 127.0.0.2 port %d; };" % self.port if self.notify else "notify no;"}
    allow-transfer {{ 127.0.0.0/8; }};
    dnssec-validation no;
}};
controls {{ }};
include "{self.key_file}";
{zones}
""")
        return conf

    def _write_secondary(self, primary_port: int) -> Path:
        d = self.base / "secondary"
        d.mkdir(exist_ok=True)
        (d / "root.hints").write_text(". 3600000 NS a.root.invalid.\na.root.invalid. 3600000 A 127.0.0.9\n")
        zones = "".join(
            f'zone "{z}" {{ type secondary; file "{z}.sec"; '
            f'primaries {{ 127.0.0.1 port {primary_port}; }}; }};\n' for z in ZONES)
        conf = d / "named.conf"
        conf.write_text(f"""
options {{
    directory "{d}";
    pid-file none;
    listen-on port {self.port} {{ 127.0.0.2; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-recursion {{ 127.0.0.0/8; }};
    dnssec-validation no;
    min-refresh-time 1;
    min-retry-time 1;
    notify no;
    transfer-source 127.0.0.2;
    allow-notify {{ 127.0.0.0/8; }};
}};
controls {{ }};
zone "." {{ type hint; file "root.hints"; }};
{zones}
""")
        return conf

    def start(self) -> "DnsBed":
        primary = self._write_primary()
        self.processes.append(Process(["named", "-g", "-4", "-c", str(primary)], self.base / "primary.log"))
        upstream = self.port
        if self.lag:
            self.proxy = DelayProxy(("127.0.0.1", self.port), self.lag)
            upstream = self.proxy.port
        secondary = self._write_secondary(upstream)
        self.processes.append(Process(["named", "-g", "-4", "-c", str(secondary)], self.base / "secondary.log"))
        self._wait_serving()
        return self

    def _wait_serving(self, timeout: float = 30.0) -> None:
        import dns.message
        import dns.query

        deadline = time.monotonic() + timeout + self.lag
        for address in ("127.0.0.1", "127.0.0.2"):
            for zone in ZONES:
                while True:
                    for p in self.processes:
                        if p.proc.poll() is not None:
                            raise RuntimeError(f"named exited: {p.log.read_text()[-3000:]}")
                    try:
                        r = dns.query.udp(dns.message.make_query(zone, "SOA"), address, port=self.port, timeout=0.5)
                        if r.answer:
                            break
                    except Exception:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{address} does not serve {zone}: "
                                           + (self.base / 'secondary.log').read_text()[-3000:])
                    time.sleep(0.1)

    def txt(self, name: str, address: str = "127.0.0.1") -> set[str]:
        import dns.message
        import dns.query

        r = dns.query.udp(dns.message.make_query(name, "TXT"), address, port=self.port, timeout=2)
        return {b"".join(x.strings).decode() for rr in r.answer if rr.rdtype == 16 for x in rr}

    def stop(self) -> None:
        for p in self.processes:
            p.stop()
        if self.proxy:
            self.proxy.close()
