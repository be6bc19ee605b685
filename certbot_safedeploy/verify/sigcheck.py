"""Signature and key-strength facts about certificates, for any cryptography >= 3.4.

A certificate is signed over its DER ``tbsCertificate`` (RFC 5280 §4.1.1.3).
cryptography >= 40 checks that with ``verify_directly_issued_by``; older releases
(3.4.8 on Ubuntu 22.04, 38.0.4 on Debian 12) get the same answer here by
verifying ``tbs_certificate_bytes`` with the issuer's public key, per key type.
Weak algorithms (MD5, SHA-1) and weak keys are named as such by the policy
checks, never reported as a bad signature.
"""

from __future__ import annotations

import functools

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

_PSS_OID = "1.2.840.113549.1.1.10"
# RFC 3279 §2.2 / RFC 5758 / RFC 8410 dotted OIDs, so that no newer constant is needed
WEAK_SIGNATURES = {
    "1.2.840.113549.1.1.2": "MD2 with RSA",
    "1.2.840.113549.1.1.4": "MD5 with RSA",
    "1.2.840.113549.1.1.5": "SHA-1 with RSA",
    "1.3.14.3.2.29": "SHA-1 with RSA",
    "1.2.840.10045.4.1": "ECDSA with SHA-1",
    "1.2.840.10040.4.3": "DSA with SHA-1",
}
GOOD_SIGNATURES = {
    "1.2.840.113549.1.1.11": "SHA-256 with RSA",
    "1.2.840.113549.1.1.12": "SHA-384 with RSA",
    "1.2.840.113549.1.1.13": "SHA-512 with RSA",
    _PSS_OID: "RSASSA-PSS",
    "1.2.840.10045.4.3.2": "ECDSA with SHA-256",
    "1.2.840.10045.4.3.3": "ECDSA with SHA-384",
    "1.2.840.10045.4.3.4": "ECDSA with SHA-512",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
WEBPKI_SIGNATURES = frozenset(GOOD_SIGNATURES) - {"1.3.101.112", "1.3.101.113"}  # CA/B BR §7.1.3.2
STRONG_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})


def signature_algorithm(cert: x509.Certificate) -> tuple[str, str]:
    """(dotted OID, readable name) of the algorithm that signed ``cert``."""
    oid = cert.signature_algorithm_oid.dotted_string
    return oid, WEAK_SIGNATURES.get(oid) or GOOD_SIGNATURES.get(oid) or oid


def key_weakness(cert: x509.Certificate) -> str | None:
    """Why the certificate's public key is too weak for clients, or None."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"its public key cannot be parsed ({exc})"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            return f"RSA key of {key.key_size} bits (clients require at least 2048)"
        if key.public_numbers().e < 3 or key.public_numbers().e % 2 == 0:
            return f"RSA key with unusable public exponent {key.public_numbers().e}"
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in STRONG_CURVES:
            return f"EC key on {key.curve.name} (clients accept P-256, P-384, P-521)"
        return None
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA key of {key.key_size} bits (clients no longer accept DSA)"
    return None


def ca_key_permitted(cert: x509.Certificate) -> bool:
    """CA/B BR §7.1.3.1: a CA key is RSA or EC on a named NIST curve."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey))


def _hash(cert: x509.Certificate) -> hashes.HashAlgorithm | None:
    try:
        return cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None


def _verify_manually(cert: x509.Certificate, issuer_key: object) -> None:
    data, signature = cert.tbs_certificate_bytes, cert.signature
    algorithm = _hash(cert)
    if isinstance(issuer_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        issuer_key.verify(signature, data)
    elif algorithm is None:
        raise InvalidSignature("unsupported signature hash")
    elif isinstance(issuer_key, rsa.RSAPublicKey):
        if cert.signature_algorithm_oid.dotted_string == _PSS_OID:
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
        else:
            pad = padding.PKCS1v15()
        issuer_key.verify(signature, data, pad, algorithm)
    elif isinstance(issuer_key, ec.EllipticCurvePublicKey):
        issuer_key.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(issuer_key, dsa.DSAPublicKey):
        issuer_key.verify(signature, data, algorithm)
    else:
        raise InvalidSignature("unsupported issuer key type")


@functools.lru_cache(maxsize=512)
def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s name and key issued ``cert`` (RFC 5280 §6.1.3 (a)(1), (a)(4)).

    Cached: certificates hash and compare by their DER, and the same intermediate
    and root meet again in every lineage of a host.
    """
    try:
        if cert.issuer != issuer.subject:
            return False
        direct = getattr(cert, "verify_directly_issued_by", None)
        if direct is not None:  # cryptography >= 40
            direct(issuer)
        else:
            _verify_manually(cert, issuer.public_key())
    except Exception:  # noqa: BLE001 - hostile input: any failure is "not signed by"
        return False
    return True
