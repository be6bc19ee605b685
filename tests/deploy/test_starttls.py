"""STARTTLS dialogues against scripted peers (real Postfix, Dovecot, slapd and
PostgreSQL: tests/integration/test_probe_starttls.py)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.deploy import starttls, tlsclient
from certbot_safedeploy.deploy.starttls import StartTlsError, negotiate
from tests.pki import Pki

from .tlsserver import TlsServer, line_prelude


class Peer:
    """A scripted server: each send() by the client releases the next answer."""

    def __init__(self, greeting: bytes, *answers: bytes) -> None:
        self.pending = [greeting] if greeting else []
        self.answers = list(answers)
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(data)
        if self.answers:
            self.pending.append(self.answers.pop(0))

    def receive(self) -> bytes:
        if not self.pending:
            return b""
        return self.pending.pop(0)


def test_smtp_multiline_ehlo_then_starttls():
    peer = Peer(b"220-mail.example ESMTP\r\n220 ready\r\n",
                b"250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n", b"220 2.0.0 go ahead\r\n")
    negotiate("smtp", peer, "mail.example", "[127.0.0.1]")
    assert peer.sent == [b"EHLO [127.0.0.1]\r\n", b"STARTTLS\r\n"]


def test_smtp_without_starttls_extension_names_the_fix():
    peer = Peer(b"220 mail ESMTP\r\n", b"250-mail\r\n250 PIPELINING\r\n")
    with pytest.raises(StartTlsError, match="does not offer STARTTLS"):
        negotiate("smtp", peer, "mail.example")


def test_smtp_refused_greeting():
    with pytest.raises(StartTlsError, match="greeted with 554 no service"):
        negotiate("smtp", Peer(b"554 no service\r\n"), "mail.example")


def test_smtp_bytes_after_go_ahead_are_refused():
    peer = Peer(b"220 mail\r\n", b"250-mail\r\n250 STARTTLS\r\n", b"220 go\r\n250 injected\r\n")
    with pytest.raises(StartTlsError, match="STARTTLS injection"):
        negotiate("smtp", peer, "mail.example")


def test_smtp_garbage_reply():
    with pytest.raises(StartTlsError, match="not a SMTP reply"):
        negotiate("smtp", Peer(b"HTTP/1.1 400 Bad Request\r\n"), "mail.example")


def test_imap_untagged_lines_then_ok():
    peer = Peer(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n",
                b"* CAPABILITY IMAP4rev1\r\na1 OK Begin TLS negotiation now.\r\n")
    negotiate("imap", peer, "mail.example")
    assert peer.sent == [b"a1 STARTTLS\r\n"]


def test_imap_bad_names_the_answer():
    peer = Peer(b"* OK ready\r\n", b"a1 BAD Unknown command\r\n")
    with pytest.raises(StartTlsError, match="BAD Unknown command"):
        negotiate("imap", peer, "mail.example")


def test_pop3_stls():
    peer = Peer(b"+OK Dovecot ready.\r\n", b"+OK Begin TLS negotiation now.\r\n")
    negotiate("pop3", peer, "mail.example")
    assert peer.sent == [b"STLS\r\n"]
    with pytest.raises(StartTlsError, match="STLS answered .-ERR TLS support"):
        negotiate("pop3", Peer(b"+OK\r\n", b"-ERR TLS support isn't enabled.\r\n"), "mail.example")


def test_ftp_auth_tls():
    negotiate("ftp", Peer(b"220-welcome\r\n220 ftp\r\n", b"234 AUTH TLS OK.\r\n"), "ftp.example")
    with pytest.raises(StartTlsError, match="AUTH TLS answered 502"):
        negotiate("ftp", Peer(b"220 ftp\r\n", b"502 not implemented\r\n"), "ftp.example")


XMPP_FEATURES = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='1' version='1.0' "
                 b"xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
                 b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                 b"</stream:features>")


def test_xmpp_features_then_proceed():
    peer = Peer(b"", XMPP_FEATURES, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    negotiate("xmpp", peer, "chat.example")
    assert b"to='chat.example'" in peer.sent[0]


def test_xmpp_failure_and_missing_feature():
    peer = Peer(b"", XMPP_FEATURES, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    with pytest.raises(StartTlsError, match="failure"):
        negotiate("xmpp", peer, "chat.example")
    no_tls = XMPP_FEATURES.replace(b"xmpp-tls", b"xmpp-sasl")
    with pytest.raises(StartTlsError, match="does not offer STARTTLS"):
        negotiate("xmpp", Peer(b"", no_tls), "chat.example")


def test_postgres_sslrequest():
    peer = Peer(b"", b"S")
    negotiate("postgres", peer, "db.example")
    assert peer.sent == [bytes.fromhex("0000000804d2162f")]
    with pytest.raises(StartTlsError, match="ssl = off"):
        negotiate("postgres", Peer(b"", b"N"), "db.example")


def ldap_response(msgid: int, code: int, diagnostic: bytes = b"", name: bytes = b"") -> bytes:
    ber = starttls.ber
    op = ber(0x0A, bytes([code])) + ber(0x04, b"") + ber(0x04, diagnostic) + (ber(0x8A, name) if name else b"")
    return ber(0x30, ber(0x02, bytes([msgid])) + ber(0x78, op))


def test_ldap_request_bytes_are_rfc4511():
    assert starttls.ldap_starttls_request() == bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"


def test_ldap_success():
    peer = Peer(b"", ldap_response(1, 0, name=starttls.STARTTLS_OID))
    negotiate("ldap", peer, "ldap.example")


def test_ldap_refusal_carries_code_and_diagnostic():
    peer = Peer(b"", ldap_response(1, 52, b"Could not initialize TLS"))
    with pytest.raises(StartTlsError, match=r"52 \(unavailable\): Could not initialize TLS"):
        negotiate("ldap", peer, "ldap.example")


def test_ldap_notice_of_disconnection():
    peer = Peer(b"", ldap_response(0, 2, b"bye", starttls.NOTICE_OF_DISCONNECTION))
    with pytest.raises(StartTlsError, match="disconnected: bye"):
        negotiate("ldap", peer, "ldap.example")


@pytest.mark.parametrize("answer", [b"\x30\x03\x02\x01\x01", b"\x04\x00", b"\x30\x85\x00\x00\x00\x00\x01\x00",
                                    b"\x30\x05\x02\x01\x01\x61\x00"])
def test_ldap_malformed_answers_are_refusals(answer):
    with pytest.raises(StartTlsError, match="ldap: "):
        negotiate("ldap", Peer(b"", answer), "ldap.example")


def test_ber_long_form_length():
    element = starttls.ber(0x04, b"x" * 300)
    assert element[:4] == b"\x04\x82\x01\x2c"
    assert starttls.parse_ber(element) == (0x04, b"x" * 300, b"")


def test_endless_server_is_cut_off():
    class Endless:
        def send(self, data: bytes) -> None:
            pass

        def receive(self) -> bytes:
            return b"220-" + b"x" * 1000 + b"\r\n"

    with pytest.raises(StartTlsError, match="more than"):
        negotiate("smtp", Endless(), "mail.example")


def test_unknown_protocol():
    with pytest.raises(StartTlsError, match="unknown STARTTLS protocol 'gopher'"):
        negotiate("gopher", Peer(b""), "x")


def test_closed_connection():
    with pytest.raises(StartTlsError, match="closed the connection"):
        negotiate("imap", Peer(b""), "x")


def test_ftp_over_a_real_socket_reads_the_chain(tmp_path):
    """The dialogue, then the TLS handshake on the same socket: leaf and chain arrive."""
    pki = Pki.create("Ftp")
    leaf = pki.leaf("ftp.example")
    script = [(None, b"220 ftp ready\r\n"), (b"AUTH TLS", b"234 go\r\n")]
    server = TlsServer(tmp_path, leaf.pem + pki.intermediate.pem, leaf.key_pem, prelude=line_prelude(script))
    try:
        served = tlsclient.fetch("127.0.0.1", server.port, "ftp.example", 5, starttls="ftp")
    finally:
        server.close()
    assert served.leaf == leaf.cert.public_bytes(Encoding.DER)
    assert served.chain == (pki.intermediate.cert.public_bytes(Encoding.DER),)


def test_config_knows_every_dialogue_and_its_port():
    from certbot_safedeploy.config.target_section import STARTTLS_PORTS

    assert tuple(STARTTLS_PORTS) == starttls.PROTOCOLS
