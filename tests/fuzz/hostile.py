"""Hostile servers on loopback, one per protocol and behaviour, for the probe, ``verify --connect`` and deploy.

Behaviours (the issue's list): ``garbage`` banner, ``digits`` (non-ASCII digits
where a reply code goes: ``²²⁰``), an ``endless`` line, ``slowloris`` (a byte
every 0.2 s, for ever), an ``abrupt`` close, and a TLS ``alert`` after a correct
STARTTLS dialogue.  ``good`` speaks the protocol and serves a certificate.  A
``mode_file`` switches a server between ``good`` (file absent) and its hostile
behaviour (file present), so a deploy's reload can turn it hostile and the
rollback's reload turn it good again.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import List, Optional

from tests.fuzz.seeds import STARTTLS

BEHAVIOURS = ("garbage", "digits", "endless", "slowloris", "abrupt", "alert")
PROTOCOLS = ("tls", "smtp", "imap", "pop3", "ldap", "ftp")
CLIENT_FIRST = ("ldap", "xmpp", "postgres")
ALERT = bytes.fromhex("15030300020228")  # fatal handshake_failure
DIGITS = {"smtp": "²²⁰ mail ESMTP\r\n", "ftp": "٢٢٠ ftp\r\n", "imap": "* ОК ready\r\n", "pop3": "＋OK ready\r\n",
          "ldap": "0\u0660", "tls": "²²⁰"}


class HostileServer:
    def __init__(self, protocol: str, behaviour: str, *, cert_file: Optional[str] = None,
                 key_file: Optional[str] = None, mode_file: Optional[Path] = None) -> None:
        self.protocol, self.behaviour, self.mode_file = protocol, behaviour, mode_file
        self.context: Optional[ssl.SSLContext] = None
        if cert_file and key_file:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert_file, key_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def current(self) -> str:
        if self.mode_file is None:
            return self.behaviour
        return self.behaviour if self.mode_file.exists() else "good"

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _script(self) -> List[bytes]:
        return [] if self.protocol == "tls" else list(STARTTLS[self.protocol][0])

    def _serve(self, conn: socket.socket) -> None:
        behaviour = self.current()
        try:
            conn.settimeout(10)
            script = self._script()
            if behaviour in ("garbage", "digits", "endless", "slowloris", "abrupt"):
                if self.protocol in CLIENT_FIRST or self.protocol == "tls":
                    conn.recv(4096)
                self._hostile(conn, behaviour)
                return
            first = True
            for chunk in script:
                if not first or self.protocol in CLIENT_FIRST:
                    conn.recv(4096)
                conn.sendall(chunk)
                first = False
            if behaviour == "alert":
                conn.recv(4096)  # the ClientHello
                conn.sendall(ALERT)
                time.sleep(0.2)
                return
            if self.context is not None:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _hostile(self, conn: socket.socket, behaviour: str) -> None:
        if behaviour == "abrupt":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
            return
        if behaviour == "garbage":
            conn.sendall(os.urandom(64) + b"\r\n" + bytes(range(256)) + b"\r\n")
            time.sleep(3)
        elif behaviour == "digits":
            conn.sendall(DIGITS[self.protocol].encode())
            time.sleep(3)
        elif behaviour == "endless":
            line = b"220-" if self.protocol in ("smtp", "ftp") else b"* "
            conn.sendall(line)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not self.closed:
                conn.sendall(b"x" * 65536)
        elif behaviour == "slowloris":
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not self.closed:
                conn.sendall(b"2")
                time.sleep(0.2)

    def close(self) -> None:
        self.closed = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
