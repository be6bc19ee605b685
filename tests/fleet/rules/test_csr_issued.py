import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.rules import csr
from certbot_safedeploy.fleet.rules.issued import check_issued
from tests.pki import DAY, NOW, Pki, make_cert


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_csr_carries_domains_and_the_keys_pin(kind):
    key = csr.generate_key(kind)
    info = csr.read_csr(csr.build_csr(key, ("www.example.com", "*.example.com")))
    assert info.domains == ("www.example.com", "*.example.com")
    assert info.pin == csr.key_pin(key)


def test_domains_are_validated_and_deduplicated():
    assert csr.check_domains(["WWW.Example.com.", "www.example.com"]) == ("www.example.com",)
    with pytest.raises(FleetError):
        csr.check_domains(["bad name.example"])
    with pytest.raises(FleetError):
        csr.check_domains([])


def test_a_csr_with_a_broken_signature_is_refused():
    pem = csr.build_csr(csr.generate_key("ec"), ("a.example",))
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0xFF
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(FleetError, match="signature"):
        csr.read_csr(tampered)


def _issue(pki, key_pem, *sans, **kw):
    key = serialization.load_pem_private_key(key_pem, None)
    return pki.leaf(*sans, key=key, **kw)


def test_check_issued_accepts_the_matching_certificate():
    pki = Pki.create()
    key = csr.generate_key("ec")
    leaf = _issue(pki, key, "a.example", "b.example")
    got = check_issued(leaf.pem, pki.intermediate.pem, csr.key_pin(key), ("a.example", "b.example"), time.time())
    assert got.serial == format(leaf.cert.serial_number, "x") and got.pin == csr.key_pin(key)


def test_check_issued_refuses_a_foreign_key_missing_names_and_a_wrong_chain():
    pki, other = Pki.create(), Pki.create("Other")
    key = csr.generate_key("ec")
    pin = csr.key_pin(key)
    foreign = pki.leaf("a.example")
    with pytest.raises(FleetError, match="not the CSR's key"):
        check_issued(foreign.pem, pki.intermediate.pem, pin, ("a.example",), time.time())
    narrow = _issue(pki, key, "a.example")
    with pytest.raises(FleetError, match="does not cover b.example"):
        check_issued(narrow.pem, pki.intermediate.pem, pin, ("a.example", "b.example"), time.time())
    with pytest.raises(FleetError, match="did not issue"):
        check_issued(narrow.pem, other.intermediate.pem, pin, ("a.example",), time.time())
    with pytest.raises(FleetError, match="not a certificate"):
        check_issued(b"", pki.intermediate.pem, pin, ("a.example",), time.time())
    expired = make_cert("a.example", issuer=pki.intermediate, sans=["a.example"],
                        key=serialization.load_pem_private_key(key, None),
                        start=NOW - 20 * DAY, end=NOW - DAY)
    with pytest.raises(FleetError, match="not valid now"):
        check_issued(expired.pem, pki.intermediate.pem, pin, ("a.example",), time.time())


def test_check_issued_refuses_malformed_der_in_one_error():
    """A PEM block that is clean base64 but not a certificate is a FleetError, never a traceback."""
    import base64

    pki = Pki.create()
    key = csr.generate_key("ec")
    junk = b"\x30\x82\x00\x10" + b"\x02\x01\x01" * 5
    pem = (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(junk) + b"-----END CERTIFICATE-----\n")
    with pytest.raises(FleetError, match="malformed certificate"):
        check_issued(pem, pki.intermediate.pem, csr.key_pin(key), ("a.example",), time.time())
    leaf = _issue(pki, key, "a.example")
    with pytest.raises(FleetError, match="malformed certificate"):
        check_issued(leaf.pem, pem, csr.key_pin(key), ("a.example",), time.time())
