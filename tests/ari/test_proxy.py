"""ARI requests go through https_proxy (a CONNECT proxy on loopback), as the timer's environment sets it."""

import datetime
import select
import socket
import threading
import time

from certbot_safedeploy.ari.certid import cert_id
from certbot_safedeploy.ari.cycle import DUE, Pass, Subject
from certbot_safedeploy.ari.fetch import Client
from tests.ari.ariserver import Reply, window_body

NOW = datetime.datetime.now(datetime.timezone.utc)


class ConnectProxy:
    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.tunnels: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        target = head.split()[1].decode()
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = {client: upstream, upstream: client}
        while True:
            ready, _, _ = select.select(list(pair), [], [], 5)
            if not ready:
                break
            for s in ready:
                data = s.recv(65536)
                if not data:
                    client.close(), upstream.close()
                    return
                pair[s].sendall(data)


def test_requests_use_https_proxy(server, tmp_path, leaf, monkeypatch):
    proxy = ConnectProxy()
    for key in ("no_proxy", "NO_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy.port}")
    cert = leaf().cert
    server.routes[server.info_path(cert_id(cert))] = Reply(200, window_body(NOW - datetime.timedelta(hours=3),
                                                                            NOW - datetime.timedelta(hours=2)))
    client = Client(cafile=str(server.ca_file), timeout=5)
    got = Pass(str(tmp_path), client, time.time()).run([Subject("a.example", cert, server.directory)])[0]
    assert got.state == DUE, got.line
    assert proxy.tunnels == [f"127.0.0.1:{server.port}"] * 2  # the directory, then renewalInfo
