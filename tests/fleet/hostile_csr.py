"""CSRs a compromised server could write into its own enrollment row, built from raw DER.

cryptography's builder refuses to make them (two extension requests, an
extension twice), so the attribute set is put together here and signed again
with the server's own key: the signature verifies, as an attacker's would.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certbot_safedeploy.verify.certinfo import Malformed  # noqa: F401 - re-exported for tests
from certbot_safedeploy.verify.der import _children, _tlv

ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _len(len(value)) + value


def _parts(csr_der: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """(children of CertificationRequestInfo, its attributes [0] as (tag, value) pairs)."""
    info = _children(_children(_tlv(csr_der, 0)[1])[0][1])
    attributes = _children(info[3][1]) if len(info) > 3 else []
    return info, attributes


def _csr(key: ec.EllipticCurvePrivateKey, domains: list[str], cn: str | None = None) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or domains[0])]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def signed(key: ec.EllipticCurvePrivateKey, info: list[tuple[int, bytes]], attributes: list[bytes]) -> str:
    body = b"".join(tlv(t, v) for t, v in info[:3]) + tlv(0xA0, b"".join(sorted(attributes)))  # DER SET OF
    info_der = tlv(0x30, body)
    signature = key.sign(info_der, ec.ECDSA(hashes.SHA256()))
    der = tlv(0x30, info_der + ECDSA_SHA256 + tlv(0x03, b"\0" + signature))
    return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM).decode()


def two_extension_requests(key: ec.EllipticCurvePrivateKey, shown: list[str], hidden: list[str]) -> str:
    """A CSR whose first extensionRequest names ``shown`` and a second one names ``hidden``."""
    info, first = _parts(_csr(key, shown))
    _, second = _parts(_csr(key, hidden))
    return signed(key, info, [tlv(t, v) for t, v in first + second])


def duplicate_san(key: ec.EllipticCurvePrivateKey, shown: list[str], hidden: list[str]) -> str:
    """One extensionRequest holding two subjectAltName extensions."""
    info, (first,) = _parts(_csr(key, shown))
    _, (second,) = _parts(_csr(key, hidden))

    def extensions(attribute: bytes) -> bytes:
        oid, values = _children(attribute)
        return _children(_children(values[1])[0][1])[0]  # the one Extension of the one value
    san1, san2 = (tlv(0x30, e[1]) for e in (extensions(first[1]), extensions(second[1])))
    oid = _children(first[1])[0]
    attribute = tlv(0x30, tlv(oid[0], oid[1]) + tlv(0x31, tlv(0x30, san1 + san2)))
    return signed(key, info, [attribute])


def cn_outside(key: ec.EllipticCurvePrivateKey, domains: list[str], cn: str) -> str:
    return x509.load_der_x509_csr(_csr(key, domains, cn)).public_bytes(serialization.Encoding.PEM).decode()


def ip_san(key: ec.EllipticCurvePrivateKey, domain: str) -> str:
    import ipaddress

    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(domain), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
