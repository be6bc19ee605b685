"""Private keys and their match with a certificate's public key.

A key matches a certificate when both carry the same SubjectPublicKeyInfo
(RFC 5280 §4.1.2.7); comparing the DER of the SPKI works the same for RSA, EC
and Ed25519/Ed448 keys.
"""

from __future__ import annotations

from typing import Union

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    rsa,
)

from certbot_safedeploy.verify.pem import PemBlock, PemFormatError

PrivateKey = Union[
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    dsa.DSAPrivateKey,
]
PublicKey = Union[
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
    dsa.DSAPublicKey,
]

_SUPPORTED = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)


def load_private_key(block: PemBlock) -> PrivateKey:
    """Load an unencrypted private key, refusing unusable key types."""
    try:
        key = serialization.load_pem_private_key(block.text, password=None)
    except TypeError:
        raise PemFormatError(
            "private key is encrypted", "store the key unencrypted, mode 0600"
        ) from None
    except (ValueError, Exception) as exc:  # cryptography raises several types
        raise PemFormatError(
            f"private key cannot be parsed ({type(exc).__name__})",
            "restore privkey.pem from archive/ or re-issue with a new key",
        ) from None
    if not isinstance(key, _SUPPORTED):
        raise PemFormatError(
            f"unsupported private key type {type(key).__name__}",
            "use an RSA, EC or Ed25519 key",
        )
    return key


def spki_der(public_key: PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of a public key."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches_certificate(key: PrivateKey, certificate: x509.Certificate) -> bool:
    """True when ``key`` is the private half of the certificate's public key."""
    try:
        theirs = spki_der(certificate.public_key())  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - an unparsable certificate key matches nothing
        return False
    return spki_der(key.public_key()) == theirs
