"""cryptography's own path validator (``cryptography.x509.verification``, 42+).

Where it exists it decides trust: RFC 5280 path building with the CA/B Forum Web
PKI profile, the verifier cryptography tests against x509-limbo.  Its refusal is a
single ``VerificationError`` text; :func:`translate` maps it to one of our check
names, and :mod:`.path` prefers the built-in engine's more specific finding when
both engines refuse.
"""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any, Sequence

import cryptography
from cryptography import x509

from certbot_safedeploy.verify import certinfo, report
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.report import Finding

try:  # cryptography >= 42
    from cryptography.x509 import verification as _verification
except ImportError:  # pragma: no cover - exercised on cryptography 3.4.8 / 38
    _verification = None  # type: ignore[assignment]

AVAILABLE = _verification is not None and hasattr(_verification, "PolicyBuilder")
NAME = f"cryptography {cryptography.__version__}"

# (fragment of the library's message, check, fix), first match wins
_PROFILE_FIX = "re-issue from a CA whose certificates meet the Web PKI profile"
_TRANSLATIONS = (
    ("duplicate", "malformed", "discard this certificate: clients cannot parse it"),
    ("malformed", "malformed", "discard this certificate: clients cannot parse it"),
    ("not valid at validation time", "validity", "renew, or re-issue to get the CA's current chain"),
    ("expired", "validity", "renew, or re-issue to get the CA's current chain"),
    ("must not be asserted in an EE", "leaf-ca", _PROFILE_FIX),
    ("EE keyUsage must not assert keyCertSign", "leaf-ca", _PROFILE_FIX),
    ("keyCertSign must be asserted", "key-usage", _PROFILE_FIX),
    ("cA must be asserted", "ca", _PROFILE_FIX),
    ("EKU", "eku", "re-issue a TLS server certificate (EKU serverAuth)"),
    ("path length", "path-length", "re-issue from a CA whose pathLenConstraint allows this path"),
    ("name constraint", "name-constraints", "re-issue within the CA's permitted names"),
    ("critical extension", "critical-extension", "re-issue without unknown critical extensions"),
    ("subjectAltName", "names", "re-issue with every name in the subjectAltName"),
    ("Forbidden signature algorithm", "signature-algorithm", "re-issue: the CA must sign with SHA-256 or better"),
    ("Forbidden public key algorithm", "key-type", "re-issue with an RSA 2048+ or EC P-256/P-384 key"),
    ("too weak", "weak-key", "re-issue with an RSA 2048+ or EC P-256/P-384 key"),
    ("signature does not match", "signature", "discard this chain and re-issue the certificate"),
    ("extension", "profile", _PROFILE_FIX),
    ("serial", "profile", _PROFILE_FIX),
    ("X509v3", "profile", _PROFILE_FIX),
)


def translate(message: str, file: str) -> Finding:
    """One finding for the library's refusal text."""
    text = " ".join(message.split())
    lowered = text.lower()
    for fragment, check, fix in _TRANSLATIONS:
        if fragment.lower() in lowered:
            return report.error(file, check, f"{NAME} refuses the path: {text}", fix)
    return report.error(file, "trust", f"{NAME} finds no valid path to a trust anchor: {text}",
                        "re-issue to get the CA's full chain, or add its root to the trust anchors")


def subject_for(leaf: x509.Certificate, dns_name: str | None) -> Any:
    """The name to validate for: ``dns_name``, else the leaf's first usable SAN entry."""
    if dns_name:
        try:
            return x509.IPAddress(ipaddress.ip_address(dns_name))
        except ValueError:
            return x509.DNSName(dns_name.rstrip(".").lower())
    found = certinfo.extension(leaf, x509.SubjectAlternativeName)
    if found is None:
        raise x509.ExtensionNotFound("no subjectAltName", x509.SubjectAlternativeName.oid)
    san = found.value
    for name in san.get_values_for_type(x509.DNSName):
        name = name.lower()
        return x509.DNSName("wildcard-probe" + name[1:] if name.startswith("*.") else name)
    for address in san.get_values_for_type(x509.IPAddress):
        return x509.IPAddress(address)
    raise ValueError("no DNS name or IP address in the subjectAltName")


def verify(leaf: x509.Certificate, pool: Sequence[x509.Certificate], trust: TrustStore,
           subject: Any, now: datetime.datetime) -> tuple[tuple[x509.Certificate, ...] | None, str]:
    """(path leaf..anchor, "") when trusted, else (None, the library's reason)."""
    if not trust.anchors:
        return None, f"no trust anchors in {trust.source}"
    naive = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    builder = _verification.PolicyBuilder().store(trust.library_store()).time(naive)
    try:
        verifier = builder.build_server_verifier(subject)
        chain = verifier.verify(leaf, list(pool))
    except _verification.VerificationError as exc:
        return None, str(exc)
    except ValueError as exc:  # an unusable subject or malformed input
        return None, str(exc)
    return tuple(chain), ""
