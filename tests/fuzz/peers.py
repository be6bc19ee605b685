"""Peers the fuzz suite talks to: a scripted STARTTLS channel and a stub DNS server on loopback.

These are the hostile side of a conversation, not the code under test: the
project's own STARTTLS dialogues, DNS client and locator run unchanged against them.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import List, Optional

import dns.message
import dns.rcode


class ScriptChannel:
    """A STARTTLS peer that answers with the next scripted chunk (then end of stream)."""

    def __init__(self, chunks: List[bytes]) -> None:
        self.chunks = list(chunks)
        self.sent: List[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def receive(self) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


class StubDns:
    """Answers every UDP and TCP query on 127.0.0.1 with ``reply`` (its id set to the query's),
    or REFUSED when ``reply`` is None."""

    def __init__(self) -> None:
        self.reply: Optional[bytes] = None
        for _ in range(20):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        self.closed = False
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def answer(self, query: bytes) -> bytes:
        if self.reply is None:
            try:
                request = dns.message.from_wire(query)
                response = dns.message.make_response(request)
                response.set_rcode(dns.rcode.REFUSED)
                return response.to_wire()
            except Exception:  # noqa: BLE001 - a peer: never dies
                return b""
        return query[:2] + self.reply[2:] if len(self.reply) >= 2 else self.reply

    def _serve_udp(self) -> None:
        while not self.closed:
            try:
                query, peer = self.udp.recvfrom(65535)
                self.udp.sendto(self.answer(query)[:65507], peer)
            except (OSError, TypeError):  # TypeError: recvfrom on a socket shut down under it
                if self.closed:
                    return

    def _serve_tcp(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(2)
                    head = conn.recv(2)
                    if len(head) < 2:
                        continue
                    (length,) = struct.unpack("!H", head)
                    query = b""
                    while len(query) < length:
                        chunk = conn.recv(length - len(query))
                        if not chunk:
                            break
                        query += chunk
                    reply = self.answer(query)[:65535]
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    continue

    def close(self) -> None:
        self.closed = True
        for s in (self.udp, self.tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
