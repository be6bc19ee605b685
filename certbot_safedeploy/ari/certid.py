"""The ARI certificate identifier (RFC 9773 section 4.1), pure.

``base64url(AKI keyIdentifier) "." base64url(serial)``, both unpadded, where the
serial is the DER encoding's content octets of the certificate's serialNumber (a
leading zero octet when the high bit is set).
"""

from __future__ import annotations

import base64

from cryptography import x509

from certbot_safedeploy.errors import SafeDeployError


class CertIdError(SafeDeployError):
    """A certificate whose ARI identifier cannot be computed."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def serial_content_octets(serial: int) -> bytes:
    """DER INTEGER content octets of a positive serial (minimal, two's complement)."""
    if serial <= 0:
        raise CertIdError("the certificate's serial number is not positive (RFC 5280 section 4.1.2.2)")
    return serial.to_bytes((serial.bit_length() + 8) // 8, "big")


def cert_id_from_parts(key_identifier: bytes, serial: int) -> str:
    if not key_identifier:
        raise CertIdError("the Authority Key Identifier has no keyIdentifier")
    return f"{_b64url(key_identifier)}.{_b64url(serial_content_octets(serial))}"


def cert_id(cert: x509.Certificate) -> str:
    """The ARI ``certID`` of ``cert``."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        raise CertIdError("the certificate has no Authority Key Identifier, which ARI needs") from None
    except ValueError as exc:  # a malformed extension
        raise CertIdError(f"the certificate's extensions do not parse: {exc}") from None
    return cert_id_from_parts(aki.key_identifier or b"", cert.serial_number)
