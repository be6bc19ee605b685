"""Keys and PKCS #10 certificate signing requests (RFC 2986) for enrollment.

Pure: keys and CSRs are built and read in memory; :mod:`.localstate` writes
them.  The CSR carries every domain as a subjectAltName (RFC 8555 section 7.4
orders take identifiers from the SANs) and the first one as the subject CN.
"""

from __future__ import annotations

import dataclasses

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certbot_safedeploy.syntax.acme_values import check_domain
from certbot_safedeploy.errors import ChallengeError, FleetError
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.der import csr_extension_requests
from certbot_safedeploy.verify.parsing import PARSE_ERRORS
from certbot_safedeploy.verify.pincheck import pin_of_public_key

KEY_TYPES = ("ec", "rsa")


@dataclasses.dataclass(frozen=True)
class CsrInfo:
    domains: tuple[str, ...]
    pin: str  # RFC 7469 pin of the CSR's public key
    common_names: tuple[str, ...] = ()


def generate_key(key_type: str) -> bytes:
    """A new private key as unencrypted PKCS #8 PEM: EC P-256 or RSA 2048."""
    if key_type == "ec":
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise FleetError(f"unknown key type {key_type!r}", fix="use --key-type ec or --key-type rsa")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(key_pem: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise FleetError("the key is neither EC nor RSA", fix="enroll again with --key-type ec")
    return key


def key_pin(key_pem: bytes) -> str:
    return pin_of_public_key(_load_key(key_pem).public_key())


def check_domains(domains: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate and de-duplicate ``domains`` (wildcards allowed), keeping order."""
    if not domains:
        raise FleetError("no domain given", fix="pass --domain at least once")
    seen: list[str] = []
    for d in domains:
        try:
            name = check_domain(d)
        except ChallengeError as exc:
            raise FleetError(exc.message, fix="pass names like www.example.com or *.example.com") from None
        if name not in seen:
            seen.append(name)
    return tuple(seen)


def build_csr(key_pem: bytes, domains: tuple[str, ...]) -> bytes:
    key = _load_key(key_pem)
    sans = x509.SubjectAlternativeName([x509.DNSName(d) for d in domains])
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    ).add_extension(sans, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _check_extension_requests(csr: x509.CertificateSigningRequest) -> None:
    """Exactly one extensionRequest, no extension twice (read from the DER, not from cryptography)."""
    try:
        requests = csr_extension_requests(csr.public_bytes(serialization.Encoding.DER))
    except Malformed as exc:
        raise FleetError(f"the stored CSR's attributes are malformed: {exc}",
                         fix="enroll the name again on its server") from None
    if len(requests) != 1:
        raise FleetError(f"the stored CSR has {len(requests)} extension requests; exactly one is allowed",
                         fix="enroll the name again on its server")
    if len(set(requests[0])) != len(requests[0]):
        raise FleetError("the stored CSR requests an extension twice", fix="enroll the name again on its server")


def read_csr(csr_pem: bytes) -> CsrInfo:
    """Parse a CSR from the store strictly (RFC 2986; RFC 8555 §7.4 orders take its SANs).

    Refused: a bad signature, no subjectAltName, more than one extension request or
    a duplicate extension, a SAN of any type but DNS, a subject CN that is not one
    of the SANs, a weak or unknown key.
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
        signature_ok = csr.is_signature_valid
    except PARSE_ERRORS as exc:
        raise FleetError(f"the stored CSR is not a PEM PKCS #10 request: {exc}",
                         fix="enroll the name again on its server") from None
    if not signature_ok:
        raise FleetError("the stored CSR's signature does not verify",
                         fix="enroll the name again on its server")
    _check_extension_requests(csr)
    try:
        ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise FleetError("the stored CSR has no subjectAltName",
                         fix="enroll the name again on its server") from None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise FleetError(f"the stored CSR's extensions are malformed: {exc}",
                         fix="enroll the name again on its server") from None
    domains = tuple(ext.value.get_values_for_type(x509.DNSName))
    if not domains or len(ext.value) != len(domains):
        raise FleetError("the stored CSR asks for names other than DNS names (or none)",
                         fix="enroll the name again on its server")
    try:
        cns = tuple(str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    except PARSE_ERRORS as exc:
        raise FleetError(f"the stored CSR's subject is malformed: {exc}", fix="enroll the name again") from None
    outside = [cn for cn in cns if cn not in domains]
    if outside:
        raise FleetError(f"the stored CSR's subject CN {outside[0]!r} is not one of its subjectAltNames",
                         fix="enroll the name again on its server")
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise FleetError(f"the stored CSR's key cannot be read: {exc}", fix="enroll the name again") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise FleetError(f"the stored CSR's RSA key has {key.key_size} bits", fix="rekey with --key-type ec")
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise FleetError("the stored CSR's key is neither RSA nor EC", fix="rekey with --key-type ec")
    return CsrInfo(domains, pin_of_public_key(key), tuple(c.lower() for c in cns))
