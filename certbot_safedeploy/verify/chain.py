"""Chain order, signatures, trust anchors and validity windows (RFC 5280 §6).

This is deliberately a plain path check over the chain certbot saved, not path
*building*: each certificate must be issued and signed by the next one, the last
one by a trust anchor, and every certificate must be inside its validity window.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from . import report
from .report import Finding


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


def describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s name and key issued ``cert``."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return bool(bc.value.ca)


class TrustStore:
    """Trust anchors indexed by subject, for issuer look-ups."""

    def __init__(self, anchors: Sequence[x509.Certificate], source: str) -> None:
        self.source = source
        self._by_subject: dict[bytes, list[x509.Certificate]] = {}
        self._der: set[bytes] = set()
        from cryptography.hazmat.primitives.serialization import Encoding

        for anchor in anchors:
            self._by_subject.setdefault(anchor.subject.public_bytes(), []).append(anchor)
            self._der.add(anchor.public_bytes(Encoding.DER))

    def __len__(self) -> int:
        return len(self._der)

    def contains(self, cert: x509.Certificate) -> bool:
        from cryptography.hazmat.primitives.serialization import Encoding

        return cert.public_bytes(Encoding.DER) in self._der

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        candidates = self._by_subject.get(cert.issuer.public_bytes(), [])
        return [a for a in candidates if signed_by(cert, a)]


def check_order_and_signatures(
    chain: Sequence[x509.Certificate], file: str
) -> list[Finding]:
    """chain[i] must be issued and signed by chain[i+1]."""
    findings: list[Finding] = []
    for i in range(len(chain) - 1):
        cert, issuer = chain[i], chain[i + 1]
        label = "leaf" if i == 0 else f"chain[{i}]"
        if cert.issuer != issuer.subject:
            elsewhere = [
                j for j, c in enumerate(chain) if j != i + 1 and c.subject == cert.issuer
            ]
            if elsewhere:
                msg = (
                    f"wrong order: the issuer of {label} ({cert.issuer.rfc4514_string()}) "
                    f"is at position {elsewhere[0]}, not {i + 1}"
                )
                fix = "write the chain leaf first, then each issuer in turn (certbot's own order)"
            else:
                msg = (
                    f"{label} was issued by {cert.issuer.rfc4514_string()}, but the next "
                    f"certificate is {describe(issuer)}: a foreign or missing intermediate"
                )
                fix = "restore chain.pem from archive/ or re-issue to get the CA's chain"
            findings.append(report.error(file, "chain", msg, fix))
            continue
        if not signed_by(cert, issuer):
            findings.append(
                report.error(
                    file,
                    "chain",
                    f"the signature on {label} does not verify with the key of "
                    f"{describe(issuer)}: a forged or corrupted intermediate",
                    "discard this chain and re-issue the certificate",
                )
            )
        elif not _is_ca(issuer):
            findings.append(
                report.error(
                    file,
                    "chain",
                    f"{describe(issuer)} signs {label} but is not a CA (basicConstraints)",
                    "re-issue; the chain is not from a real CA",
                )
            )
    if not findings:
        findings.append(report.passed(file, "chain", f"{len(chain)} certificates in order"))
    return findings


def check_anchor(
    chain: Sequence[x509.Certificate], trust: TrustStore, file: str
) -> list[Finding]:
    """The last certificate must be a trust anchor or be signed by one."""
    last = chain[-1]
    if trust.contains(last) or trust.issuers_of(last):
        return [report.passed(file, "trust", f"chains to a trust anchor in {trust.source}")]
    if last.issuer == last.subject:
        msg = f"the chain ends at the self-signed {describe(last)}, which is not a trust anchor"
        fix = f"add that root to trust_anchors / --trust-anchor if you trust it (now: {trust.source})"
    else:
        msg = (
            f"the chain ends at {describe(last)}, issued by "
            f"{last.issuer.rfc4514_string()}, which is not in {trust.source}: "
            "a missing intermediate or an untrusted root"
        )
        fix = "re-issue to get the full chain, or add the CA's root to the trust anchors"
    return [report.error(file, "trust", msg, fix)]


def check_validity(
    chain: Sequence[x509.Certificate], now: datetime.datetime, file: str
) -> list[Finding]:
    findings: list[Finding] = []
    for i, cert in enumerate(chain):
        label = "leaf" if i == 0 else f"chain[{i}]"
        start, end = not_before(cert), not_after(cert)
        if now < start:
            findings.append(
                report.error(
                    file,
                    "validity",
                    f"{label} is not valid until {start.isoformat()}",
                    "check the system clock (timedatectl) and wait or re-issue",
                )
            )
        elif now > end:
            findings.append(
                report.error(
                    file,
                    "validity",
                    f"{label} expired at {end.isoformat()}",
                    "renew the certificate (certbot renew --cert-name ...)",
                )
            )
    leaf_end = not_after(chain[0])
    for i, cert in enumerate(chain[1:], start=1):
        if not_after(cert) < leaf_end:
            findings.append(
                report.warning(
                    file,
                    "validity",
                    f"chain[{i}] ({describe(cert)}) expires at {not_after(cert).isoformat()}, "
                    f"before the leaf ({leaf_end.isoformat()})",
                    "renew before the intermediate expires; clients will fail from then on",
                )
            )
    if not any(f.severity is report.Severity.ERROR for f in findings):
        findings.append(
            report.passed(file, "validity", f"valid now, leaf until {leaf_end.isoformat()}")
        )
    return findings
