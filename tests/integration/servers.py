"""Real servers on loopback for the integration tests: nginx, named, pebble.

Each is started with setsid in its own temporary directory on free ports, and
only that process group is stopped afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP on ``host``."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return int(port)
    raise RuntimeError("no free port")


def wait_tcp(host: str, port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None,
             log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: {detail}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    detail = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s: {detail}")


class Process:
    """A server started with setsid; stop() signals only its own process group."""

    def __init__(self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None, user: str | None = None) -> None:
        self.log = log
        self.handle = open(log, "ab")
        self.proc = subprocess.Popen(list(argv), stdout=self.handle, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env=env, cwd=cwd, user=user, group=user, extra_groups=[] if user else None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.handle.close()


class Nginx:
    """nginx with an HTTP server on a webroot and an optional TLS server."""

    def __init__(self, base: Path, *, http_port: int | None = None, webroot: Path | None = None,
                 tls_port: int | None = None, cert: Path | None = None, key: Path | None = None,
                 extra_http: str = "", extra_tls: str = "") -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.conf = base / "nginx.conf"
        self.error_log = base / "error.log"
        self.access_log = base / "access.log"
        self.http_port, self.tls_port = http_port, tls_port
        servers = ""
        if http_port:
            servers += f"""
    server {{
        listen 127.0.0.1:{http_port};
        server_name _;
        root {webroot};
        location / {{ try_files $uri =404; }}
        {extra_http}
    }}"""
        if tls_port:
            servers += f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name _;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {extra_tls}
        location / {{ return 200 "ok\\n"; }}
    }}"""
        temp = base / "temp"
        temp.mkdir(exist_ok=True)
        self.conf.write_text(f"""
daemon off;
user root root;  # test bed: workers must read pytest's 0700 temp dirs
master_process on;
worker_processes 1;
pid {base}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {self.access_log};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type text/plain;
    {servers}
}}
""")
        self.process: Process | None = None

    @property
    def argv(self) -> list[str]:
        return ["nginx", "-p", str(self.base), "-c", str(self.conf), "-e", str(self.error_log)]

    def check_argv(self) -> list[str]:
        return [*self.argv, "-t", "-q"]

    def reload_argv(self) -> list[str]:
        return [*self.argv, "-s", "reload"]

    def start(self) -> "Nginx":
        subprocess.run(self.check_argv(), check=True, capture_output=True)
        self.process = Process(self.argv, self.base / "stdout.log")
        for port in (self.http_port, self.tls_port):
            if port:
                wait_tcp("127.0.0.1", port, proc=self.process.proc, log=self.error_log)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()
