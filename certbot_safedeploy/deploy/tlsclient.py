"""A TLS client handshake that returns what the server sent: the leaf and its chain.

The handshake runs over an :class:`ssl.MemoryBIO` pair on a plain socket, so a
STARTTLS dialogue (:mod:`.starttls`) can run on the same socket first.  It does
not verify anything: the caller judges the certificates (RFC 5280 path
validation happens in :mod:`certbot_safedeploy.verify`), so a broken chain is a
finding with a message, not an opaque handshake failure.

Python exposes the certificates a server sent in different ways:

* 3.13+: ``SSLObject.get_unverified_chain()`` (public, DER bytes);
* 3.10-3.12: the private ``_sslobj.get_unverified_chain()`` (``_ssl.Certificate``);
* 3.8-3.9: neither; the private message callback (``SSLContext._msg_callback``,
  OpenSSL's ``SSL_CTX_set_msg_callback``) sees every handshake message after
  decryption, so the Certificate message (RFC 8446 §4.4.2, RFC 5246 §7.4.2) is
  parsed here, for TLS 1.3 and 1.2 alike.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import ssl
import time
from typing import Any

from certbot_safedeploy.deploy import starttls as starttls_mod

HANDSHAKE, CERTIFICATE = 22, 11
MAX_HANDSHAKE = 1 << 20  # OpenSSL caps a certificate list at 100 KiB; 1 MiB is not a handshake


@dataclasses.dataclass(frozen=True)
class Served:
    """What one handshake presented."""

    leaf: bytes  # DER
    chain: tuple[bytes, ...]  # DER of every certificate sent after the leaf, in order
    version: str  # "TLSv1.3"
    source: str  # how the chain was read (see the module docstring)


def _recv(sock: socket.socket, deadline: float, size: int = 65536) -> bytes:
    """One recv, bounded by what is left of the whole exchange's time budget."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("the server is too slow: no complete answer in time")
    sock.settimeout(left)
    return sock.recv(size)


class _SocketChannel:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> bytes:
        return _recv(self.sock, self.deadline, 4096)


def parse_certificate_message(body: bytes, tls13: bool) -> list[bytes]:
    """DER certificates of a Certificate handshake message body (after the 4-byte header).

    TLS 1.2 (RFC 5246 §7.4.2): ``opaque ASN.1Cert<1..2^24-1> certificate_list<0..2^24-1>``.
    TLS 1.3 (RFC 8446 §4.4.2): a request context, then entries of cert_data and extensions.
    Raises ValueError on a malformed message.
    """
    pos = 0
    if tls13:
        if not body:
            raise ValueError("empty Certificate message")
        pos = 1 + body[0]
    if len(body) < pos + 3:
        raise ValueError("truncated Certificate message")
    end = pos + 3 + int.from_bytes(body[pos:pos + 3], "big")
    if end != len(body):
        raise ValueError("Certificate message length mismatch")
    pos += 3
    certs: list[bytes] = []
    while pos < end:
        if pos + 3 > end:
            raise ValueError("truncated certificate entry")
        size = int.from_bytes(body[pos:pos + 3], "big")
        pos += 3
        if size == 0 or pos + size > end:
            raise ValueError("bad certificate entry length")
        certs.append(body[pos:pos + size])
        pos += size
        if tls13:
            if pos + 2 > end:
                raise ValueError("truncated certificate extensions")
            pos += 2 + int.from_bytes(body[pos:pos + 2], "big")
            if pos > end:
                raise ValueError("bad certificate extensions length")
    return certs


class _Recorder:
    """Collects the server's Certificate message through the private message callback."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, bool]] = []

    def __call__(self, conn: Any, direction: str, version: Any, content_type: Any,
                 msg_type: Any, data: bytes) -> None:
        if direction == "read" and content_type == HANDSHAKE and msg_type == CERTIFICATE:
            self.messages.append((bytes(data), version == ssl.TLSVersion.TLSv1_3))

    def certificates(self) -> list[bytes] | None:
        if not self.messages:
            return None
        data, tls13 = self.messages[-1]
        return parse_certificate_message(data[4:], tls13)


SOURCES = ("get_unverified_chain", "_sslobj.get_unverified_chain", "handshake message")


def chain_source() -> str:
    """The best way this Python has to read the chain a server sent."""
    if hasattr(ssl.SSLObject, "get_unverified_chain"):  # Python 3.13+
        return SOURCES[0]
    if hasattr(getattr(ssl, "_ssl")._SSLSocket, "get_unverified_chain"):  # Python 3.10-3.12
        return SOURCES[1]
    if hasattr(ssl.SSLContext, "_msg_callback"):  # Python 3.8+
        return SOURCES[2]
    return "none"


def _read_chain(obj: ssl.SSLObject, source: str, recorder: _Recorder) -> list[bytes] | None:
    if source == SOURCES[0]:
        return [bytes(c) for c in obj.get_unverified_chain() or []]  # type: ignore[attr-defined]
    if source == SOURCES[1]:
        der = getattr(ssl, "_ssl").ENCODING_DER
        return [c.public_bytes(der) for c in getattr(obj, "_sslobj").get_unverified_chain() or []]
    if source == SOURCES[2]:
        return recorder.certificates()
    return None


def _client_name(sock: socket.socket) -> str:
    """An EHLO argument: the address literal of our end (RFC 5321 §4.1.3)."""
    try:
        address = ipaddress.ip_address(sock.getsockname()[0])
    except (OSError, ValueError):
        return "localhost"
    return f"[IPv6:{address}]" if address.version == 6 else f"[{address}]"


def _handshake(sock: socket.socket, obj: ssl.SSLObject, incoming: ssl.MemoryBIO,
               outgoing: ssl.MemoryBIO, deadline: float) -> None:
    received = 0
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                sock.sendall(pending)
            data = _recv(sock, deadline)
            if not data:
                raise ConnectionResetError("the server closed the connection during the TLS handshake") from None
            received += len(data)
            if received > MAX_HANDSHAKE:
                raise ssl.SSLError(f"the server sent more than {MAX_HANDSHAKE} bytes without finishing the "
                                   "handshake")
            incoming.write(data)
    pending = outgoing.read()
    if pending:
        sock.sendall(pending)


def _close(sock: socket.socket, obj: ssl.SSLObject, outgoing: ssl.MemoryBIO) -> None:
    """Send close_notify; the server's answer does not matter."""
    try:
        obj.unwrap()
    except (ssl.SSLError, OSError):
        pass
    try:
        pending = outgoing.read()
        if pending:
            sock.sendall(pending)
    except OSError:
        pass


def fetch(host: str, port: int, servername: str, timeout: float, starttls: str | None = None, *,
          source: str | None = None) -> Served:
    """Connect (and run the STARTTLS dialogue), handshake, return what was served.

    ``source`` forces one way of reading the chain (tests); default :func:`chain_source`.
    Raises OSError only (ssl.SSLError, socket errors, :class:`.starttls.StartTlsError`): a
    bad port, a host the resolver refuses or a reply a parser refuses is an OSError too,
    so no caller (the deploy probe above all) meets another exception from a peer.
    """
    if not 0 < port < 65536:
        raise ConnectionError(f"port {port} is not a TCP port (1-65535)")
    try:
        return _fetch(host, port, servername, timeout, starttls, source=source)
    except OSError:
        raise
    except (ValueError, OverflowError, UnicodeError, EOFError) as exc:
        raise ssl.SSLError(f"{host[:80]}:{port}: {type(exc).__name__}: {str(exc)[:120]}") from None


def _fetch(host: str, port: int, servername: str, timeout: float, starttls: str | None, *,
           source: str | None) -> Served:
    source = source or chain_source()
    deadline = time.monotonic() + 2 * timeout  # the whole exchange; ``timeout`` bounds the connect
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the caller validates the path itself
    recorder = _Recorder()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if starttls:
            starttls_mod.negotiate(starttls, _SocketChannel(sock, deadline), servername, _client_name(sock))
        if source == SOURCES[2]:
            context._msg_callback = recorder  # type: ignore[attr-defined]  # before the SSL object exists
        try:
            obj = context.wrap_bio(incoming, outgoing, server_hostname=servername or None)
        except (ValueError, TypeError) as exc:  # UnicodeError: not an IDNA name
            raise ssl.SSLError(f"cannot send {servername[:80]!r} as SNI: {exc}") from None
        _handshake(sock, obj, incoming, outgoing, deadline)
        leaf = obj.getpeercert(binary_form=True)
        try:
            certs = _read_chain(obj, source, recorder)
        except ValueError as exc:
            raise ssl.SSLError(f"unreadable Certificate message: {exc}") from None
        version = obj.version() or "TLS"
        _close(sock, obj, outgoing)
    if not leaf:
        raise ssl.SSLError("the server sent no certificate")
    if not certs or certs[0] != leaf:
        certs = [leaf, *(certs or [])]
    return Served(leaf, tuple(certs[1:]), version, source)
