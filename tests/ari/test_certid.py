"""RFC 9773 section 4.1 certificate identifiers."""

import pytest
from cryptography import x509

from certbot_safedeploy.ari.certid import CertIdError, cert_id, cert_id_from_parts, serial_content_octets
from tests.pki import make_cert


def test_the_rfc_example():
    # RFC 9773 section 4.1: AKI 69:88:5B:6B:..., serial 0x0087654321
    aki = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    assert cert_id_from_parts(aki, 0x87654321) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


@pytest.mark.parametrize("serial, octets", [(1, "01"), (0x7F, "7f"), (0x80, "0080"), (0xFF, "00ff"),
                                            (0x0100, "0100"), (0x87654321, "0087654321")])
def test_serial_octets_are_der_content(serial, octets):
    assert serial_content_octets(serial).hex() == octets


def test_non_positive_serial_refused():
    with pytest.raises(CertIdError):
        serial_content_octets(0)


def test_from_a_certificate():
    root = make_cert("root", ca=True)
    leaf = make_cert("leaf.example", issuer=root, sans=["leaf.example"])
    ski = root.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    got = cert_id(leaf.cert)
    assert got == cert_id_from_parts(ski, leaf.cert.serial_number)
    assert "=" not in got and "+" not in got and "/" not in got


def test_without_aki():
    root = make_cert("root", ca=True)
    leaf = make_cert("leaf.example", issuer=root, omit=[x509.AuthorityKeyIdentifier])
    with pytest.raises(CertIdError, match="Authority Key Identifier"):
        cert_id(leaf.cert)


def test_agrees_with_the_acme_library():
    acme_client = pytest.importorskip("acme.client")
    path_component = getattr(acme_client, "_renewal_info_path_component", None)
    if path_component is None:
        pytest.skip("this acme has no renewalInfo support (< 4.1)")
    root = make_cert("root", ca=True)
    for _ in range(20):  # serials with and without the high bit set
        leaf = make_cert("leaf.example", issuer=root, sans=["leaf.example"])
        assert cert_id(leaf.cert) == path_component(leaf.cert)
