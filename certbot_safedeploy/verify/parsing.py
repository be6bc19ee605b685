"""The exceptions cryptography raises on hostile DER, and loaders that turn them into one (pure).

``load_der_x509_certificate`` raises ``ValueError`` on bad DER but
``x509.InvalidVersion`` (not a ValueError) on a bad version field, and reading
the key of an unknown algorithm raises ``UnsupportedAlgorithm`` (``InternalError``
on cryptography 3.4.8 when a CSR's signature is checked).  Every place
that parses a certificate, CSR or key from outside input catches
:data:`PARSE_ERRORS` (or uses the loaders here, which raise
:class:`~certbot_safedeploy.verify.certinfo.Malformed`).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm

from certbot_safedeploy.verify.certinfo import Malformed

# InternalError: cryptography 3.4.8 (Ubuntu 22.04) on a CSR whose key algorithm OpenSSL does not know
PARSE_ERRORS: tuple[type[Exception], ...] = (ValueError, x509.InvalidVersion, UnsupportedAlgorithm, InternalError)


def why(exc: BaseException) -> str:
    """A short reason for a parse failure (cryptography's messages can be long)."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def certificate_from_der(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except PARSE_ERRORS as exc:
        raise Malformed(f"not a parsable X.509 certificate ({why(exc)})") from None


def certificate_from_pem(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except PARSE_ERRORS as exc:
        raise Malformed(f"not a parsable PEM certificate ({why(exc)})") from None


def csr_from_der(der: bytes) -> x509.CertificateSigningRequest:
    try:
        return x509.load_der_x509_csr(der)
    except PARSE_ERRORS as exc:
        raise Malformed(f"not a parsable PKCS #10 request ({why(exc)})") from None
