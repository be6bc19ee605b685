"""What a client sees in a leaf and its chain, as plain values (pure, hostile-input safe).

Used by :mod:`.changes` to compare the certificate a target serves with the one
about to replace it.  Every accessor tolerates malformed extensions: a field that
cannot be parsed reads as absent (the path checks refuse such certificates anyway).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Callable, Sequence, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from certbot_safedeploy.verify.certinfo import Malformed, extension, not_after, not_before, spki
from certbot_safedeploy.verify.names import san_names

EKU_NAMES = {ExtendedKeyUsageOID.SERVER_AUTH.dotted_string: "serverAuth",
             ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string: "clientAuth",
             "2.5.29.37.0": "anyExtendedKeyUsage"}
T = TypeVar("T")
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclasses.dataclass(frozen=True)
class LeafFacts:
    names: tuple[str, ...]
    key_type: str  # rsa, ecdsa, ed25519, ed448, dsa, unknown
    key: str  # "RSA 2048", "ECDSA P-256", "Ed25519"
    issuer: str  # the leaf's issuer name (RFC 4514)
    intermediate: str  # the first chain certificate: subject and SHA-256 prefix; "" when none
    chain_pins: tuple[str, ...]  # pin-sha256 of leaf, then each chain certificate
    not_before: datetime.datetime
    not_after: datetime.datetime
    ekus: tuple[str, ...]  # names or dotted OIDs; () when the extension is absent (any use)
    must_staple: bool  # TLS Feature (RFC 7633) status_request
    ocsp_urls: tuple[str, ...]
    crl_urls: tuple[str, ...]

    @property
    def lifetime_days(self) -> float:
        return (self.not_after - self.not_before).total_seconds() / 86400

    @property
    def client_auth(self) -> bool:
        """Usable as a TLS client certificate: no EKU, clientAuth or anyExtendedKeyUsage."""
        return not self.ekus or "clientAuth" in self.ekus or "anyExtendedKeyUsage" in self.ekus

    def days_left(self, now: datetime.datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def key_description(cert: x509.Certificate) -> tuple[str, str]:
    try:
        public = cert.public_key()
    except Exception:  # noqa: BLE001
        return "unknown", "an unparsable key"
    if isinstance(public, rsa.RSAPublicKey):
        return "rsa", f"RSA {public.key_size}"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return "ecdsa", f"ECDSA {_CURVES.get(public.curve.name, public.curve.name)}"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519", "Ed25519"
    if isinstance(public, ed448.Ed448PublicKey):
        return "ed448", "Ed448"
    if isinstance(public, dsa.DSAPublicKey):
        return "dsa", f"DSA {public.key_size}"
    return "unknown", type(public).__name__


def _pin(cert: x509.Certificate) -> str:
    import base64

    try:
        return "sha256/" + base64.b64encode(hashlib.sha256(spki(cert)).digest()).decode()
    except Malformed:
        return ""


def _safe(call: Callable[[], T], default: T) -> T:
    try:
        return call()
    except Exception:  # noqa: BLE001 - malformed extension: read as absent
        return default


def _ekus(cert: x509.Certificate) -> tuple[str, ...]:
    ext = extension(cert, x509.ExtendedKeyUsage)
    if ext is None:
        return ()
    return tuple(EKU_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in ext.value)


def _must_staple(cert: x509.Certificate) -> bool:
    ext = extension(cert, x509.TLSFeature)
    return ext is not None and x509.TLSFeatureType.status_request in list(ext.value)


def _urls(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ocsp: list[str] = []
    crl: list[str] = []
    aia = extension(cert, x509.AuthorityInformationAccess)
    for desc in aia.value if aia else ():
        if desc.access_method == AuthorityInformationAccessOID.OCSP and \
                isinstance(desc.access_location, x509.UniformResourceIdentifier):
            ocsp.append(desc.access_location.value)
    cdp = extension(cert, x509.CRLDistributionPoints)
    for point in cdp.value if cdp else ():
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier):
                crl.append(name.value)
    return tuple(ocsp), tuple(crl)


def crl_urls(cert: x509.Certificate) -> tuple[str, ...]:
    """The CRL distribution point URIs of ``cert`` (RFC 5280 §4.2.1.13); () when unreadable."""
    return _safe(lambda: _urls(cert)[1], ())


def _name(cert: x509.Certificate, which: str) -> str:
    try:
        return str(getattr(cert, which).rfc4514_string())
    except Exception:  # noqa: BLE001
        return "an unparsable name"


def leaf_facts(leaf: x509.Certificate, chain: Sequence[x509.Certificate]) -> LeafFacts:
    key_type, key = key_description(leaf)
    intermediate = ""
    if chain:
        from cryptography.hazmat.primitives import hashes

        first = chain[0]
        digest = _safe(lambda: first.fingerprint(hashes.SHA256()).hex()[:16], "")
        intermediate = f"{_name(chain[0], 'subject')} (sha256 {digest})"
    ekus: tuple[str, ...] = _safe(lambda: _ekus(leaf), ())
    empty: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    ocsp, crl = _safe(lambda: _urls(leaf), empty)
    return LeafFacts(
        names=tuple(sorted(set(san_names(leaf)))),
        key_type=key_type, key=key,
        issuer=_name(leaf, "issuer"), intermediate=intermediate,
        chain_pins=tuple(_pin(c) for c in (leaf, *chain)),
        not_before=not_before(leaf), not_after=not_after(leaf),
        ekus=ekus,
        must_staple=bool(_safe(lambda: _must_staple(leaf), False)),
        ocsp_urls=ocsp, crl_urls=crl)
