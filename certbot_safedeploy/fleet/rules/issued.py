"""Checks on a certificate the CA returned for a stored CSR (pure).

The central host never holds a private key, so it checks what it can before
publishing: the leaf's SubjectPublicKeyInfo is the CSR's (compared by RFC 7469
pin, which covers the RSA modulus and the EC point alike), the leaf's names are
exactly the CSR's (a CA that adds, drops or re-cases a name is never
published), the first chain certificate issued the leaf, and the leaf is
inside its validity window.  Servers verify again against their own key and
trust anchors before installing (:mod:`certbot_safedeploy.verify.lineagecheck`).
"""

from __future__ import annotations

import dataclasses

from cryptography import x509

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.verify.chain import not_after, not_before, signed_by
from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates
from certbot_safedeploy.verify.pincheck import pin_of_certificate


@dataclasses.dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: str
    chain_pem: str
    serial: str  # lower-case hex, as in `openssl x509 -serial` but lower
    not_before: int
    not_after: int
    pin: str


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def names_differ(leaf: x509.Certificate, domains: tuple[str, ...]) -> None:
    """The certificate names exactly the CSR's DNS names: none more, none fewer, same case, DNS only."""
    try:
        ext = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = list(ext.get_values_for_type(x509.DNSName))
        others = len(ext) - len(sans)
    except x509.ExtensionNotFound:
        sans, others = [], 0
    cns = [str(a.value) for a in leaf.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)]
    missing = [d for d in domains if d not in sans]
    extra = [s for s in sans if s not in domains] + [cn for cn in cns if cn not in domains]
    if missing or extra or others:
        what = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "", f"not asked for {', '.join(extra)}" if extra else "",
            f"{others} non-DNS subjectAltName(s)" if others else "") if part)
        raise FleetError(f"the certificate's names are not the CSR's: {what}",
                         fix="nothing was published; the CA changed the names (report it to the CA)")


def check_issued(cert_pem: bytes, chain_pem: bytes, csr_pin: str, domains: tuple[str, ...],
                 now: float) -> IssuedCertificate:
    """Return the parsed certificate, or raise FleetError naming the failed check."""
    try:
        expect_certificates(cert_pem, exactly=1)
        chain_blocks = expect_certificates(chain_pem, at_least=1)
    except PemFormatError as exc:
        raise FleetError(f"certbot's output is not a certificate and chain: {exc}",
                         fix="look at certbot's log; nothing was published") from None
    try:
        leaf = x509.load_pem_x509_certificate(cert_pem)
        # from the parsed blocks: x509.load_pem_x509_certificates needs cryptography 39
        chain = [x509.load_der_x509_certificate(block.der) for block in chain_blocks]
        pin = pin_of_certificate(leaf)
        names_differ_input = (leaf.extensions, leaf.subject)  # hostile DER raises here, inside the guard
        del names_differ_input
    except Exception as exc:  # noqa: BLE001 - cryptography raises several types on hostile DER
        raise FleetError(f"certbot's output holds a malformed certificate ({type(exc).__name__}: "
                         f"{str(exc)[:120]})", fix="look at certbot's log; nothing was published") from None
    if pin != csr_pin:
        raise FleetError(f"the certificate's key ({pin}) is not the CSR's key ({csr_pin})",
                         fix="nothing was published; the CA or certbot returned a foreign certificate")
    names_differ(leaf, domains)
    if not signed_by(leaf, chain[0]):
        raise FleetError("the first chain certificate did not issue the leaf",
                         fix="nothing was published; check the CA's chain")
    start, end = not_before(leaf).timestamp(), not_after(leaf).timestamp()
    if not start - 300 <= now < end:
        raise FleetError("the certificate is not valid now (clock skew?)",
                         fix="check this host's clock; nothing was published")
    return IssuedCertificate(cert_pem.decode("ascii"), chain_pem.decode("ascii"), serial_hex(leaf),
                             int(start), int(end), pin)
