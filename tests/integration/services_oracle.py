"""The tests' own view of what a service serves: the leaf after TLS or STARTTLS.

Written independently of the package's probe (stdlib smtplib/imaplib, and a
hand-built LDAP StartTLS request, RFC 4511 §4.14), so it can disagree with it.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl

from cryptography import x509

POSTGRES_SSLREQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")  # PostgreSQL protocol 53.2.9
LDAP_STARTTLS = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + b"1.3.6.1.4.1.1466.20037"


def _context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def served_leaf(starttls: str | None, port: int, servername: str = "example.com") -> x509.Certificate:
    ctx = _context()
    if starttls == "smtp":
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.starttls(context=ctx)
            der = smtp.sock.getpeercert(binary_form=True)
    elif starttls == "imap":
        imap = imaplib.IMAP4("127.0.0.1", port, timeout=5)
        imap.starttls(ssl_context=ctx)
        der = imap.sock.getpeercert(binary_form=True)
        imap.logout()
    else:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            if starttls == "ldap":
                raw.sendall(LDAP_STARTTLS)
                reply = raw.recv(4096)
                assert b"\x0a\x01\x00" in reply, reply  # resultCode success
            elif starttls == "postgres":
                raw.sendall(POSTGRES_SSLREQUEST)
                assert raw.recv(1) == b"S"
            with ctx.wrap_socket(raw, server_hostname=servername) as tls:
                der = tls.getpeercert(binary_form=True)
    assert der
    return x509.load_der_x509_certificate(der)
