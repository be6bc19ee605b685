import pytest

from certbot_safedeploy.verify.pem import (
    PemFormatError, expect_certificates, expect_private_key, parse_blocks,
)
from tests.pki import Pki


@pytest.fixture(scope="module")
def pki():
    return Pki.create()


def test_parses_certificate_blocks(pki):
    leaf = pki.leaf("a.example")
    blocks = expect_certificates(leaf.pem + pki.intermediate.pem, at_least=2)
    assert [b.label for b in blocks] == ["CERTIFICATE", "CERTIFICATE"]
    assert blocks[0].der == leaf.cert.public_bytes(__import__("cryptography").hazmat.primitives.serialization.Encoding.DER)


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b"\x30\x82\x01\x0a\x02", "DER"),
    (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
    (b"garbage", "no PEM block"),
])
def test_refuses_non_pem_by_name(data, reason):
    with pytest.raises(PemFormatError, match=reason):
        parse_blocks(data)


def test_refuses_truncated(pki):
    pem = pki.leaf("a.example").pem
    with pytest.raises(PemFormatError, match="truncated"):
        parse_blocks(pem[: len(pem) // 2])
    with pytest.raises(PemFormatError, match="truncated"):
        parse_blocks(pem + pem[:80])


def test_refuses_corrupt_base64(pki):
    pem = pki.leaf("a.example").pem.replace(b"M", b"*", 1)
    with pytest.raises(PemFormatError, match="base64"):
        parse_blocks(pem)


def test_refuses_junk_between_blocks(pki):
    pem = pki.leaf("a.example").pem
    with pytest.raises(PemFormatError, match="outside"):
        parse_blocks(pem + b"junk\n" + pki.intermediate.pem)


def test_refuses_encrypted_keys(pki):
    from cryptography.hazmat.primitives import serialization

    leaf = pki.leaf("a.example")
    enc = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(PemFormatError, match="encrypted"):
        expect_private_key(enc)
    legacy = leaf.key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(PemFormatError, match="encrypted"):
        expect_private_key(legacy)


def test_count_constraints(pki):
    leaf = pki.leaf("a.example")
    with pytest.raises(PemFormatError, match="exactly 1"):
        expect_certificates(leaf.pem + pki.intermediate.pem, exactly=1)
    with pytest.raises(PemFormatError, match="at least 2"):
        expect_certificates(leaf.pem, at_least=2)
    with pytest.raises(PemFormatError, match="PRIVATE KEY"):
        expect_certificates(leaf.pem + leaf.key_pem)
    with pytest.raises(PemFormatError, match="exactly one private key"):
        expect_private_key(leaf.key_pem + leaf.pem)
