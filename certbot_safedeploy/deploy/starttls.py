"""STARTTLS dialogues: the cleartext exchange before a TLS handshake.

Each dialogue talks to a :class:`Channel` (send bytes, receive some bytes) and
returns once the server has agreed to start TLS; it owns no socket, so the tests
drive it with scripted peers as well as real servers.

* SMTP: RFC 3207 (EHLO, the STARTTLS extension, ``220``);
* IMAP: RFC 3501 §6.2.1 (``a1 STARTTLS`` -> ``a1 OK``);
* POP3: RFC 2595 §4 (``STLS`` -> ``+OK``);
* LDAP: RFC 4511 §4.14 (the StartTLS extended operation 1.3.6.1.4.1.1466.20037,
  BER written by hand);
* FTP: RFC 4217 §4 (``AUTH TLS`` -> ``234``);
* XMPP: RFC 6120 §5.4 (stream features, ``<starttls/>`` -> ``<proceed/>``);
* PostgreSQL: the SSLRequest message (protocol docs §55.2.10, ``S``).

A server that sends anything after its "go ahead" and before the client's
ClientHello is refused: those bytes would be read as if they came over TLS
(the STARTTLS command-injection class, CVE-2011-0411).
"""

from __future__ import annotations

import re
from typing import Callable, Dict, Protocol

from certbot_safedeploy.syntax.numbers import parse_decimal

MAX_REPLY = 64 * 1024  # a cleartext answer larger than this is not a STARTTLS server


class StartTlsError(ConnectionError):
    """The server did not agree to start TLS; the message says what it said."""


class Channel(Protocol):
    def send(self, data: bytes) -> None: ...

    def receive(self) -> bytes:
        """Some bytes (b"" at end of stream)."""
        ...


class Reader:
    """Buffered reads over a :class:`Channel` that never read past what is asked."""

    def __init__(self, channel: Channel, protocol: str) -> None:
        self.channel, self.protocol = channel, protocol
        self.buffer = b""
        self.total = 0

    def _more(self) -> None:
        data = self.channel.receive()
        if not data:
            raise StartTlsError(f"{self.protocol}: the server closed the connection"
                                + (f" after {self.buffer[-80:]!r}" if self.buffer else ""))
        self.total += len(data)
        if self.total > MAX_REPLY:
            raise StartTlsError(f"{self.protocol}: more than {MAX_REPLY} bytes without the expected answer")
        self.buffer += data

    def line(self) -> str:
        while b"\n" not in self.buffer:
            self._more()
        raw, self.buffer = self.buffer.split(b"\n", 1)
        return raw.rstrip(b"\r").decode("utf-8", "replace")

    def exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._more()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def until(self, pattern: re.Pattern[bytes]) -> tuple[bytes, re.Match[bytes]]:
        """Read until ``pattern`` matches; consume and return the bytes up to the match's end."""
        while True:
            match = pattern.search(self.buffer)
            if match:
                consumed, self.buffer = self.buffer[:match.end()], self.buffer[match.end():]
                return consumed, match
            self._more()

    def done(self) -> None:
        """The server said "go ahead": nothing more may have been sent."""
        if self.buffer:
            raise StartTlsError(f"{self.protocol}: the server sent {len(self.buffer)} byte(s) after "
                                "agreeing to start TLS; refusing (STARTTLS injection)")


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def _numeric_reply(reader: Reader) -> tuple[int, list[str]]:
    """An SMTP/FTP reply: ``ddd-text`` lines ending with ``ddd text`` (RFC 5321 §4.2.1)."""
    lines: list[str] = []
    while True:
        line = reader.line()
        code = parse_decimal(line[:3], 100, 599)  # ASCII digits only: "²²⁰" is not 220
        if code is None or line[3:4] not in ("", " ", "-"):
            raise StartTlsError(f"{reader.protocol}: not a {reader.protocol.upper()} reply: {_short(line)!r}")
        lines.append(line[4:])
        if line[3:4] != "-":
            return code, lines


def smtp(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "smtp")
    code, text = _numeric_reply(r)
    if code != 220:
        raise StartTlsError(f"smtp: the server greeted with {code} {_short(' '.join(text))}")
    channel.send(f"EHLO {client_name}\r\n".encode("ascii"))
    code, text = _numeric_reply(r)
    if code != 250:
        raise StartTlsError(f"smtp: EHLO answered {code} {_short(' '.join(text))}")
    if not any(t.split()[:1] == ["STARTTLS"] for t in (x.upper() for x in text[1:])):
        raise StartTlsError("smtp: the server does not offer STARTTLS (is TLS configured, e.g. "
                            "postfix smtpd_tls_security_level = may?)")
    channel.send(b"STARTTLS\r\n")
    code, text = _numeric_reply(r)
    if code != 220:
        raise StartTlsError(f"smtp: STARTTLS answered {code} {_short(' '.join(text))}")
    return r


def imap(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "imap")
    greeting = r.line()
    if not greeting.upper().startswith("* OK"):
        raise StartTlsError(f"imap: the server greeted with {_short(greeting)!r}")
    channel.send(b"a1 STARTTLS\r\n")
    while True:
        line = r.line()
        if line.startswith("a1 "):
            break
        if not line.startswith("* "):
            raise StartTlsError(f"imap: not an IMAP response: {_short(line)!r}")
    if not line.upper().startswith("A1 OK"):
        raise StartTlsError(f"imap: STARTTLS answered {_short(line[3:])!r}")
    return r


def pop3(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "pop3")
    greeting = r.line()
    if not greeting.startswith("+OK"):
        raise StartTlsError(f"pop3: the server greeted with {_short(greeting)!r}")
    channel.send(b"STLS\r\n")
    answer = r.line()
    if not answer.startswith("+OK"):
        raise StartTlsError(f"pop3: STLS answered {_short(answer)!r}")
    return r


def ftp(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "ftp")
    code, text = _numeric_reply(r)
    if code != 220:
        raise StartTlsError(f"ftp: the server greeted with {code} {_short(' '.join(text))}")
    channel.send(b"AUTH TLS\r\n")
    code, text = _numeric_reply(r)
    if code != 234:
        raise StartTlsError(f"ftp: AUTH TLS answered {code} {_short(' '.join(text))}")
    return r


_XMPP_FEATURES = re.compile(rb"</stream:features>|<stream:features\s*/>|</stream:stream>|<stream:error")
# bounded repeats: a server sending thousands of "<proceed>" must not cost quadratic time
_XMPP_ANSWER = re.compile(rb"<(proceed|failure)\b[^>]{0,512}?(/>|>[^<]{0,512}</\1>)")


def xmpp(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "xmpp")
    name = servername.replace("&", "").replace("'", "").replace("<", "")
    channel.send((f"<?xml version='1.0'?><stream:stream to='{name}' xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").encode())
    features, match = r.until(_XMPP_FEATURES)
    if match.group(0) != b"</stream:features>" or b"urn:ietf:params:xml:ns:xmpp-tls" not in features:
        raise StartTlsError("xmpp: the server does not offer STARTTLS in its stream features")
    channel.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    _, answer = r.until(_XMPP_ANSWER)
    if answer.group(1) != b"proceed":
        raise StartTlsError("xmpp: the server answered <failure/> to <starttls/>")
    return r


def postgres(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "postgres")
    channel.send((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))  # SSLRequest
    answer = r.exactly(1)
    if answer != b"S":
        why = "ssl = off in postgresql.conf?" if answer == b"N" else f"answer {answer!r}"
        raise StartTlsError(f"postgres: the server refused SSL ({why})")
    return r


# -- LDAP (RFC 4511 §4.14, BER per X.690) ---------------------------------------
STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
NOTICE_OF_DISCONNECTION = b"1.3.6.1.4.1.1466.20036"
LDAP_RESULTS = {0: "success", 1: "operationsError", 2: "protocolError", 12: "unavailableCriticalExtension",
                13: "confidentialityRequired", 52: "unavailable", 53: "unwillingToPerform", 80: "other"}


def ber(tag: int, content: bytes) -> bytes:
    """One BER element with a definite length (short or long form)."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def ldap_starttls_request(message_id: int = 1) -> bytes:
    """LDAPMessage { messageID, [APPLICATION 23] ExtendedRequest { [0] requestName } }."""
    return ber(0x30, ber(0x02, bytes([message_id])) + ber(0x77, ber(0x80, STARTTLS_OID)))


def parse_ber(data: bytes) -> tuple[int, bytes, bytes]:
    """(tag, content, rest) of the first element of ``data``; ValueError if malformed."""
    if len(data) < 2:
        raise ValueError("truncated BER element")
    tag, first = data[0], data[1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte BER tags are not used by LDAP")
    if first < 0x80:
        length, offset = first, 2
    else:
        size = first & 0x7F
        if size == 0 or size > 4 or len(data) < 2 + size:
            raise ValueError("bad BER length")
        length, offset = int.from_bytes(data[2:2 + size], "big"), 2 + size
    if len(data) < offset + length:
        raise ValueError("truncated BER element")
    return tag, data[offset:offset + length], data[offset + length:]


def _read_element(r: Reader) -> bytes:
    head = r.exactly(2)
    if head[1] & 0x80:
        size = head[1] & 0x7F
        if size == 0 or size > 4:
            raise StartTlsError("ldap: the answer is not an LDAP message (bad BER length)")
        extra = r.exactly(size)
        head += extra
        length = int.from_bytes(extra, "big")
    else:
        length = head[1]
    if length > MAX_REPLY:
        raise StartTlsError(f"ldap: an answer of {length} bytes is not a StartTLS response")
    return head + r.exactly(length)


def parse_ldap_extended_response(data: bytes) -> tuple[int, int, str, bytes]:
    """(messageID, resultCode, diagnosticMessage, responseName) of an ExtendedResponse."""
    tag, message, _ = parse_ber(data)
    if tag != 0x30:
        raise ValueError("not an LDAPMessage")
    tag, msgid, rest = parse_ber(message)
    if tag != 0x02 or not 0 < len(msgid) <= 4:
        raise ValueError("no messageID")
    tag, op, _ = parse_ber(rest)
    if tag != 0x78:
        raise ValueError(f"protocolOp tag {tag:#x} is not an ExtendedResponse")
    tag, code, op = parse_ber(op)
    if tag != 0x0A or not 0 < len(code) <= 4:
        raise ValueError("no resultCode")
    _, _, op = parse_ber(op)  # matchedDN
    tag, diagnostic, op = parse_ber(op)
    name = b""
    while op:
        tag, value, op = parse_ber(op)
        if tag == 0x8A:
            name = value
    return (int.from_bytes(msgid, "big"), int.from_bytes(code, "big"),
            diagnostic.decode("utf-8", "replace"), name)


def ldap(channel: Channel, servername: str, client_name: str) -> Reader:
    r = Reader(channel, "ldap")
    channel.send(ldap_starttls_request(1))
    try:
        msgid, code, diagnostic, name = parse_ldap_extended_response(_read_element(r))
    except ValueError as exc:
        raise StartTlsError(f"ldap: the answer is not a StartTLS response ({exc})") from None
    if name == NOTICE_OF_DISCONNECTION or msgid == 0:
        raise StartTlsError(f"ldap: the server disconnected: {_short(diagnostic) or 'notice of disconnection'}")
    if msgid != 1:
        raise StartTlsError(f"ldap: the answer is for message {msgid}, not 1")
    if code != 0:
        meaning = LDAP_RESULTS.get(code, "error")
        raise StartTlsError(f"ldap: StartTLS answered {code} ({meaning})"
                            + (f": {_short(diagnostic)}" if diagnostic else "")
                            + (" (is TLS configured, e.g. olcTLSCertificateFile?)" if code in (2, 52) else ""))
    return r


Dialogue = Callable[[Channel, str, str], Reader]
DIALOGUES: Dict[str, Dialogue] = {"smtp": smtp, "imap": imap, "pop3": pop3, "ldap": ldap, "ftp": ftp,
                                  "xmpp": xmpp, "postgres": postgres}
PROTOCOLS = tuple(DIALOGUES)  # the config's STARTTLS_PORTS names the same ones (a test checks)


def negotiate(protocol: str, channel: Channel, servername: str, client_name: str = "localhost") -> None:
    """Run ``protocol``'s dialogue; return when the next bytes are the TLS handshake."""
    try:
        dialogue = DIALOGUES[protocol]
    except KeyError:
        raise StartTlsError(f"unknown STARTTLS protocol {protocol!r} (use {', '.join(PROTOCOLS)})") from None
    dialogue(channel, servername, client_name).done()
