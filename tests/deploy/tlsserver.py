"""A small real TLS server on loopback (Python's ssl) for the probe's unit tests.

It serves whatever PEM chain it is given, optionally after a scripted cleartext
STARTTLS exchange, so the client's chain reading is tested against real
handshakes (TLS 1.2 and 1.3) without starting a daemon.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Callable, Optional

Prelude = Callable[[socket.socket], bool]  # cleartext exchange; False: do not start TLS


class TlsServer:
    def __init__(self, directory: Path, chain_pem: bytes, key_pem: bytes, *,
                 prelude: Optional[Prelude] = None, max_version: Optional[ssl.TLSVersion] = None) -> None:
        cert_file, key_file = directory / "served.pem", directory / "served.key"
        cert_file.write_bytes(chain_pem)
        key_file.write_bytes(key_pem)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert_file), str(key_file))
        if max_version is not None:
            self.context.maximum_version = max_version
        self.prelude = prelude
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    if self.prelude is not None and not self.prelude(conn):
                        continue
                    with self.context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)  # until the client closes
                except (OSError, ssl.SSLError) as exc:
                    self.errors.append(exc)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        self.thread.join(timeout=5)


def line_prelude(script: list[tuple[Optional[bytes], bytes]]) -> Prelude:
    """A scripted peer: for each (expected line prefix or None, answer) read then answer."""

    def run(conn: socket.socket) -> bool:
        buffer = b""
        for expected, answer in script:
            if expected is not None:
                while b"\n" not in buffer and b">" not in buffer:
                    data = conn.recv(4096)
                    if not data:
                        return False
                    buffer += data
                got, buffer = buffer, b""
                if not got.startswith(expected):
                    conn.sendall(b"500 unexpected " + got[:40] + b"\r\n")
                    return False
            conn.sendall(answer)
        return True

    return run
