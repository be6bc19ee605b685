"""A small ACME-directory and renewalInfo server on loopback, with hostile modes.

Used by the unit tests (tests/ari/) and bench/ari.py.  HTTPS with its own CA
(``ca_file``); ``routes`` maps a path to a Reply; every request is counted per path.
A path not in ``routes`` under /renewalInfo/ gets ``default`` (a window in the future).
"""

from __future__ import annotations

import dataclasses
import datetime
import http.server
import json
import ssl
import tempfile
import threading
import time
from pathlib import Path

from tests.integration.acmebed import make_listener_cert


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (a slow CA)


def window_body(start: datetime.datetime, end: datetime.datetime, url: str | None = None) -> bytes:
    data: dict[str, object] = {"suggestedWindow": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                   "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    if url:
        data["explanationURL"] = url
    return json.dumps(data).encode()


class AriServer:
    def __init__(self, *, offer_ari: bool = True) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ari-server-")
        self.ca_file, cert, key = make_listener_cert(Path(self._tmp.name))
        self.routes: dict[str, Reply] = {}
        self.counts: dict[str, int] = {}
        self.connections = 0
        self.lock = threading.Lock()
        now = datetime.datetime.now(datetime.timezone.utc)
        self.default = Reply(200, window_body(now + datetime.timedelta(days=20), now + datetime.timedelta(days=22)),
                             {"Retry-After": "21600"})
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stall on keep-alive)

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:  # one handler per connection
                super().setup()
                with server.lock:
                    server.connections += 1

            def do_GET(self) -> None:
                with server.lock:
                    server.counts[self.path] = server.counts.get(self.path, 0) + 1
                reply = server.routes.get(self.path)
                if reply is None and self.path == "/dir":
                    info = {"renewalInfo": f"{server.base}/renewalInfo"} if offer_ari else {}
                    reply = Reply(200, json.dumps({"newNonce": f"{server.base}/nonce", **info}).encode())
                if reply is None and self.path.startswith("/renewalInfo/"):
                    reply = server.default
                reply = reply or Reply(404, b'{"type": "urn:ietf:params:acme:error:malformed"}')
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def directory(self) -> str:
        return f"{self.base}/dir"

    def info_path(self, cert_id: str) -> str:
        return f"/renewalInfo/{cert_id}"

    def total(self, prefix: str = "/renewalInfo/") -> int:
        with self.lock:
            return sum(n for p, n in self.counts.items() if p.startswith(prefix))

    def __enter__(self) -> "AriServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._tmp.cleanup()
