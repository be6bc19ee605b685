import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.rules import csr
from certbot_safedeploy.fleet.rules.issued import check_issued
from tests.fleet import hostile_csr
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
    with pytest.raises(FleetError, match="names are not the CSR's: missing b.example"):
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


def _ec(key_pem):
    return serialization.load_pem_private_key(key_pem, None)


@pytest.mark.parametrize("build, match", [
    (lambda k: hostile_csr.two_extension_requests(k, ["a.example"], ["victim.example"]), "2 extension requests"),
    (lambda k: hostile_csr.duplicate_san(k, ["a.example"], ["victim.example"]), "an extension twice"),
    (lambda k: hostile_csr.cn_outside(k, ["a.example"], "victim.example"), "CN 'victim.example' is not one of"),
    (lambda k: hostile_csr.ip_san(k, "a.example"), "other than DNS"),
])
def test_a_csr_that_hides_or_adds_names_is_refused(build, match):
    key = _ec(csr.generate_key("ec"))
    pem = build(key).encode()
    assert x509.load_pem_x509_csr(pem).is_signature_valid  # as a compromised server would sign it
    with pytest.raises(FleetError, match=match):
        csr.read_csr(pem)


def test_cryptography_alone_sees_only_the_first_extension_request():
    key = _ec(csr.generate_key("ec"))
    pem = hostile_csr.two_extension_requests(key, ["a.example"], ["victim.example"]).encode()
    try:
        sans = x509.load_pem_x509_csr(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.DuplicateExtension):
        return  # this cryptography refuses it outright: fine too
    assert sans.value.get_values_for_type(x509.DNSName) == ["a.example"]  # the hidden list is invisible


@pytest.mark.parametrize("sans, match", [
    (("a.example", "b.example", "victim.example"), "not asked for victim.example"),
    (("A.example", "b.example"), "missing a.example; not asked for A.example"),
    (("a.example",), "missing b.example"),
])
def test_a_certificate_whose_names_differ_from_the_csr_is_refused(sans, match):
    pki = Pki.create()
    key = csr.generate_key("ec")
    leaf = _issue(pki, key, *sans)
    with pytest.raises(FleetError, match=match):
        check_issued(leaf.pem, pki.intermediate.pem, csr.key_pin(key), ("a.example", "b.example"), time.time())
