"""Is a leaf revoked, according to a CRL its issuer signed? (RFC 5280 §6.3; pure)

The checks of §6.3.3 that apply to a complete CRL fetched from the leaf's own
distribution point, in order:

* the CRL parses (DER, or PEM for ``verify --crl``);
* it is a complete CRL (no delta CRL indicator, §5.2.4) whose issuing
  distribution point (§5.2.5) does not limit it to CA or attribute certificates;
* its issuer name is the leaf's issuer (§6.3.3 (b)(1), no indirect CRLs);
* the issuer certificate may sign CRLs: when it has a key usage extension, the
  cRLSign bit is set (§6.3.3 (f), §4.2.1.3);
* the issuer's key verifies its signature (§6.3.3 (g));
* it is current: thisUpdate is not in the future and nextUpdate is not past
  (§6.3.3 (a)(2); a CRL without nextUpdate cannot be known to be current);
* the leaf's serial is not listed (§6.3.3 (i)).

:class:`CrlVerdict` says ``good``, ``revoked`` or ``unusable`` (with why).  The
gate refuses only ``revoked``; an unusable CRL is a warning, as clients soft-fail.
"""

from __future__ import annotations

import dataclasses
import datetime

from cryptography import x509

from certbot_safedeploy.verify.certinfo import extension, issuer_der, subject_der

GOOD, REVOKED, UNUSABLE = "good", "revoked", "unusable"
SKEW = datetime.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True)
class CrlVerdict:
    status: str  # good | revoked | unusable
    detail: str
    next_update: datetime.datetime | None = None


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """DER or PEM; raises ValueError."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _utc(crl: x509.CertificateRevocationList, name: str) -> datetime.datetime | None:
    value = getattr(crl, f"{name}_utc", None)
    if value is not None:
        return value  # type: ignore[no-any-return]
    naive = getattr(crl, name)  # cryptography < 42
    return naive.replace(tzinfo=datetime.timezone.utc) if naive is not None else None


def _scope_problem(crl: x509.CertificateRevocationList) -> str:
    try:
        exts = crl.extensions
    except Exception as exc:  # noqa: BLE001 - malformed or unknown critical extension
        return f"its extensions cannot be parsed ({str(exc)[:100] or type(exc).__name__})"
    for ext in exts:
        if isinstance(ext.value, x509.DeltaCRLIndicator):
            return "it is a delta CRL, not a complete one (RFC 5280 §5.2.4)"
        if isinstance(ext.value, x509.IssuingDistributionPoint):
            if ext.value.only_contains_ca_certs or ext.value.only_contains_attribute_certs:
                return "its issuing distribution point limits it to CA or attribute certificates (RFC 5280 §5.2.5)"
            if ext.value.indirect_crl:
                return "it is an indirect CRL, which the gate does not follow (RFC 5280 §5.2.5)"
        elif ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            return f"it has an unknown critical extension {ext.oid.dotted_string} (RFC 5280 §5.2)"
    return ""


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    ku = extension(issuer, x509.KeyUsage)
    return ku is None or bool(ku.value.crl_sign)


def check_crl(leaf: x509.Certificate, issuer: x509.Certificate, data: bytes,
              now: datetime.datetime) -> CrlVerdict:
    """The verdict for ``leaf`` (issued by ``issuer``) under the CRL in ``data``; never raises."""
    try:
        crl = load_crl(data)
        crl_issuer = crl.issuer.public_bytes()
    except Exception as exc:  # noqa: BLE001 - hostile bytes
        return CrlVerdict(UNUSABLE, f"not a CRL ({str(exc)[:100] or type(exc).__name__})")
    try:
        problem = _scope_problem(crl)
        if problem:
            return CrlVerdict(UNUSABLE, problem)
        if crl_issuer != issuer_der(leaf) or subject_der(issuer) != crl_issuer:
            return CrlVerdict(UNUSABLE, f"it was issued by {crl.issuer.rfc4514_string()}, not by the "
                              f"certificate's issuer {leaf.issuer.rfc4514_string()}")
        if not _may_sign_crls(issuer):
            return CrlVerdict(UNUSABLE, f"the issuer {issuer.subject.rfc4514_string()} lacks the cRLSign key "
                              "usage (RFC 5280 §4.2.1.3)")
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return CrlVerdict(UNUSABLE, f"its signature does not verify with the key of "
                              f"{issuer.subject.rfc4514_string()}: wrong signer or corrupted")
        this_update, next_update = _utc(crl, "last_update"), _utc(crl, "next_update")
        if this_update is not None and this_update > now + SKEW:
            return CrlVerdict(UNUSABLE, f"its thisUpdate ({this_update.isoformat()}) is in the future")
        if next_update is None:
            return CrlVerdict(UNUSABLE, "it has no nextUpdate, so it cannot be known to be current")
        if next_update < now - SKEW:
            return CrlVerdict(UNUSABLE, f"it is stale: nextUpdate was {next_update.isoformat()}", next_update)
        entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    except Exception as exc:  # noqa: BLE001
        return CrlVerdict(UNUSABLE, f"it cannot be processed ({str(exc)[:100] or type(exc).__name__})")
    if entry is None:
        return CrlVerdict(GOOD, f"serial {leaf.serial_number:x} is not listed (CRL valid until "
                          f"{next_update.isoformat()})", next_update)
    return CrlVerdict(REVOKED, f"serial {leaf.serial_number:x} was revoked at {_revoked_at(entry)}"
                      f"{_reason(entry)}", next_update)


def _revoked_at(entry: x509.RevokedCertificate) -> str:
    value = getattr(entry, "revocation_date_utc", None) or entry.revocation_date.replace(
        tzinfo=datetime.timezone.utc)
    return str(value.isoformat())


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except Exception:  # noqa: BLE001 - absent or malformed
        return ""
    return f" (reason: {reason.name})"
