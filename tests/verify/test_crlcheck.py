"""RFC 5280 §6.3 CRL checks (verify/crlcheck.py) on generated PKIs."""

import datetime

from cryptography import x509

from certbot_safedeploy.verify.crlcheck import GOOD, REVOKED, UNUSABLE, check_crl
from tests.pki import DAY, NOW, Pki, make_cert, make_crl, new_key


def leaf_and_issuer():
    pki = Pki.create()
    return pki, pki.leaf("example.com")


def test_listed_serial_is_revoked_and_unlisted_is_good():
    pki, leaf = leaf_and_issuer()
    inter = pki.intermediate
    verdict = check_crl(leaf.cert, inter.cert, make_crl(inter, [leaf.cert.serial_number]), NOW)
    assert verdict.status == REVOKED and f"{leaf.cert.serial_number:x}" in verdict.detail
    assert check_crl(leaf.cert, inter.cert, make_crl(inter, [12345]), NOW).status == GOOD


def test_pem_crl_is_accepted_too():
    pki, leaf = leaf_and_issuer()
    der = make_crl(pki.intermediate, [leaf.cert.serial_number])
    pem = x509.load_der_x509_crl(der).public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                                              fromlist=["Encoding"]).Encoding.PEM)
    assert check_crl(leaf.cert, pki.intermediate.cert, pem, NOW).status == REVOKED


def test_wrong_signer_is_unusable_not_revoked():
    pki, leaf = leaf_and_issuer()
    data = make_crl(pki.intermediate, [leaf.cert.serial_number], signer_key=new_key())
    verdict = check_crl(leaf.cert, pki.intermediate.cert, data, NOW)
    assert verdict.status == UNUSABLE and "signature does not verify" in verdict.detail


def test_other_issuer_name_is_unusable():
    pki, leaf = leaf_and_issuer()
    other = Pki.create("Other")
    verdict = check_crl(leaf.cert, pki.intermediate.cert, make_crl(other.intermediate, []), NOW)
    assert verdict.status == UNUSABLE and "not by the certificate's issuer" in verdict.detail


def test_stale_and_future_crls_are_unusable():
    pki, leaf = leaf_and_issuer()
    stale = make_crl(pki.intermediate, [], this_update=NOW - 10 * DAY, next_update=NOW - DAY)
    assert "stale" in check_crl(leaf.cert, pki.intermediate.cert, stale, NOW).detail
    future = make_crl(pki.intermediate, [], this_update=NOW + DAY, next_update=NOW + 8 * DAY)
    assert "in the future" in check_crl(leaf.cert, pki.intermediate.cert, future, NOW).detail


def test_issuer_without_crl_sign_is_unusable():
    root = make_cert("Root", ca=True)
    ku = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                       encipher_only=False, decipher_only=False)
    inter = make_cert("No CRL Sign", issuer=root, ca=True, extensions=[(ku, True)])
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"])
    verdict = check_crl(leaf.cert, inter.cert, make_crl(inter, [leaf.cert.serial_number]), NOW)
    assert verdict.status == UNUSABLE and "cRLSign" in verdict.detail


def test_delta_and_ca_only_crls_are_not_used():
    pki, leaf = leaf_and_issuer()
    delta = make_crl(pki.intermediate, [], extensions=[(x509.DeltaCRLIndicator(1), True)])
    assert "delta CRL" in check_crl(leaf.cert, pki.intermediate.cert, delta, NOW).detail
    idp = x509.IssuingDistributionPoint(None, None, False, True, None, False, False)
    ca_only = make_crl(pki.intermediate, [], extensions=[(idp, True)])
    assert "CA or attribute" in check_crl(leaf.cert, pki.intermediate.cert, ca_only, NOW).detail


def test_garbage_is_unusable_without_a_traceback():
    pki, leaf = leaf_and_issuer()
    for data in (b"", b"\x30\x03\x02\x01\x01", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
                 b"\xff" * 1000):
        assert check_crl(leaf.cert, pki.intermediate.cert, data, NOW).status == UNUSABLE


def test_time_is_taken_from_the_caller():
    pki, leaf = leaf_and_issuer()
    data = make_crl(pki.intermediate, [], next_update=NOW + DAY)
    assert check_crl(leaf.cert, pki.intermediate.cert, data, NOW + 2 * DAY).status == UNUSABLE
    assert check_crl(leaf.cert, pki.intermediate.cert, data, NOW + datetime.timedelta(hours=1)).status == GOOD
