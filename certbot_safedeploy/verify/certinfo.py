"""Hostile-input-safe access to a certificate's names and extensions.

cryptography parses extensions and names lazily and raises ``ValueError``,
``x509.DuplicateExtension`` or ``x509.UnsupportedGeneralNameType`` on malformed
DER.  Every accessor here turns those into a :class:`Malformed` with a readable
reason, so that a check can refuse with a message instead of a traceback.
"""

from __future__ import annotations

import datetime
from typing import Optional, TypeVar

from cryptography import x509

T = TypeVar("T", bound=x509.ExtensionType)


class Malformed(ValueError):
    """A certificate field cannot be parsed; the message says which and why."""


def extensions(cert: x509.Certificate) -> x509.Extensions:
    """The extensions; where cryptography refuses only what clients pass over, as clients read them."""
    try:
        return cert.extensions
    except x509.DuplicateExtension as exc:
        raise Malformed(f"duplicate extension {exc.oid.dotted_string} (RFC 5280 §4.2)") from None
    except Exception as exc:  # noqa: BLE001 - ValueError, UnsupportedGeneralNameType, ...
        from certbot_safedeploy.verify import lenient

        read = lenient.read(cert)
        if read is not None:
            return read[0]
        raise Malformed(f"malformed extension ({_short(exc)})") from None


def read_leniently(cert: x509.Certificate) -> tuple[str, ...]:
    """What :func:`extensions` passed over in ``cert`` that cryptography refuses (empty: nothing)."""
    try:
        cert.extensions
        return ()
    except Exception:  # noqa: BLE001 - see extensions()
        from certbot_safedeploy.verify import lenient

        read = lenient.read(cert)
        return read[1] if read is not None else ()


def extension(cert: x509.Certificate, kind: type[T]) -> Optional[x509.Extension[T]]:
    """The extension of class ``kind``, None when absent; Malformed when unparsable."""
    try:
        return extensions(cert).get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def describe(cert: x509.Certificate) -> str:
    """The subject as RFC 4514 text, or the serial when the name is empty or unparsable."""
    try:
        text = cert.subject.rfc4514_string()
    except Exception:  # noqa: BLE001
        text = ""
    if text:
        return text
    try:
        return f"serial {cert.serial_number:x}"
    except Exception:  # noqa: BLE001
        return "an unparsable certificate"


def subject_der(cert: x509.Certificate) -> bytes:
    try:
        return cert.subject.public_bytes()
    except Exception as exc:  # noqa: BLE001
        raise Malformed(f"unparsable subject name ({_short(exc)})") from None


def issuer_der(cert: x509.Certificate) -> bytes:
    try:
        return cert.issuer.public_bytes()
    except Exception as exc:  # noqa: BLE001
        raise Malformed(f"unparsable issuer name ({_short(exc)})") from None


def spki(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception as exc:  # noqa: BLE001
        raise Malformed(f"unparsable public key ({_short(exc)})") from None


def der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def not_before(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:  # cryptography < 42
        return cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value  # type: ignore[no-any-return]


def not_after(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42
        return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value  # type: ignore[no-any-return]


def self_issued(cert: x509.Certificate) -> bool:
    """Subject equals issuer (RFC 5280 §3.2 "self-issued")."""
    return subject_der(cert) == issuer_der(cert)


def self_signed(cert: x509.Certificate) -> bool:
    """Self-issued, and its authorityKeyIdentifier (if any) names its own key (if it has an SKI).

    This is what OpenSSL (``EXFLAG_SS``), GnuTLS and Python's ``ssl`` require of the
    certificate that ends a path; its own signature is not checked, as they do not.
    """
    try:
        if not self_issued(cert):
            return False
        aki = extension(cert, x509.AuthorityKeyIdentifier)
        ski = extension(cert, x509.SubjectKeyIdentifier)
    except Malformed:
        return False
    if aki is not None and aki.value.key_identifier is not None and ski is not None:
        return aki.value.key_identifier == ski.value.digest
    return True


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
