"""Structural rules of the Web PKI profile (CA/B Forum BR §7.1, RFC 5280 §4.1, §4.2).

Which extensions a leaf and a CA must, may or must not carry, and how critical
each may be; plus the basic fields: X.509 v3, a positive serial of at most 20
octets, a non-empty issuer, the same signature algorithm inside and outside the
TBS, and EC keys on named curves.  These are the rules cryptography's validator
applies, so that the built-in engine reaches the same verdicts.
"""

from __future__ import annotations

import dataclasses
import functools

from cryptography import x509

from certbot_safedeploy.verify import certinfo, der, report
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.policy import LEAF, REISSUE, check_extensions, check_strength, label, malformed
from certbot_safedeploy.verify.report import Finding

REQUIRED, OPTIONAL, FORBIDDEN = "required", "optional", "forbidden"
CRITICAL, ANY, NONCRITICAL = "critical", "either", "non-critical"

AIA, AKI, SKI, KU, SAN, BC, NC, EKU = (
    "1.3.6.1.5.5.7.1.1", "2.5.29.35", "2.5.29.14", "2.5.29.15", "2.5.29.17", "2.5.29.19",
    "2.5.29.30", "2.5.29.37")
NAMES = {AIA: "authorityInfoAccess", AKI: "authorityKeyIdentifier", SKI: "subjectKeyIdentifier",
         KU: "keyUsage", SAN: "subjectAltName", BC: "basicConstraints", NC: "nameConstraints",
         EKU: "extendedKeyUsage"}
LEAF_RULES = {AIA: (OPTIONAL, NONCRITICAL), AKI: (REQUIRED, NONCRITICAL), SKI: (OPTIONAL, ANY),
              KU: (OPTIONAL, ANY), SAN: (REQUIRED, ANY), BC: (OPTIONAL, ANY), NC: (FORBIDDEN, ANY),
              EKU: (OPTIONAL, NONCRITICAL)}
CA_RULES = {AIA: (OPTIONAL, NONCRITICAL), AKI: (OPTIONAL, NONCRITICAL), SKI: (OPTIONAL, NONCRITICAL),
            KU: (REQUIRED, ANY), SAN: (OPTIONAL, ANY), BC: (REQUIRED, CRITICAL), NC: (OPTIONAL, ANY),
            EKU: (OPTIONAL, NONCRITICAL)}


def _error(file: str, cert: x509.Certificate, role: str, text: str) -> Finding:
    return report.error(file, "profile", f"{label(cert, role)} {text} (Web PKI profile)", REISSUE)


def check_basic(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """Version, serial, issuer, signature-algorithm agreement, named curves."""
    try:
        raw = der.raw_fields(cert)
        empty_issuer = not certinfo.issuer_der(cert) or len(cert.issuer) == 0
        version = cert.version
    except (Malformed, ValueError) as exc:
        return [malformed(file, cert, role, Malformed(str(exc)))]
    problems: list[str] = []
    if version != x509.Version.v3:
        problems.append("is not an X.509 v3 certificate")
    if not 1 <= len(raw.serial) <= 21:
        problems.append(f"has a serial number of {len(raw.serial)} octets (at most 20 allowed)")
    elif raw.serial[0] & 0x80:
        problems.append("has a negative serial number")
    if empty_issuer:
        problems.append("has an empty issuer name")
    if raw.tbs_signature != raw.outer_signature:
        problems.append("names a different signature algorithm inside and outside its signed part")
    if raw.explicit_curve:
        problems.append("has an EC key with explicit curve parameters instead of a named curve")
    return [_error(file, cert, role, p) for p in problems]


def check_profile(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """Presence and criticality of the extensions the profile governs."""
    try:
        exts = {e.oid.dotted_string: e for e in certinfo.extensions(cert)}
    except Malformed:
        return []  # reported by policy.check_extensions
    rules = LEAF_RULES if role == LEAF else CA_RULES
    findings: list[Finding] = []
    for oid, (presence, criticality) in rules.items():
        ext = exts.get(oid)
        name = NAMES[oid]
        if ext is None:
            if presence == REQUIRED and oid not in (BC, KU):  # BC, KU: named by policy.check_issuer
                findings.append(_error(file, cert, role, f"lacks the required {name} extension"))
            continue
        if presence == FORBIDDEN:
            findings.append(_error(file, cert, role, f"carries {name}, which it must not"))
        elif criticality == CRITICAL and not ext.critical:
            findings.append(_error(file, cert, role, f"must mark {name} critical"))
        elif criticality == NONCRITICAL and ext.critical:
            findings.append(_error(file, cert, role, f"must not mark {name} critical"))
    findings += _leaf_san(cert, role, exts, file) + _ca_aki_nc(cert, role, exts, file)
    return findings


def _leaf_san(cert: x509.Certificate, role: str, exts: dict[str, x509.Extension[x509.ExtensionType]],
              file: str) -> list[Finding]:
    san = exts.get(SAN)
    if role != LEAF or san is None:
        return []
    empty_subject = len(cert.subject) == 0
    if empty_subject and not san.critical:
        return [_error(file, cert, role, "has an empty subject, so its subjectAltName must be critical")]
    if not empty_subject and san.critical:
        return [_error(file, cert, role, "has a subject, so its subjectAltName must not be critical")]
    return []


def _ca_aki_nc(cert: x509.Certificate, role: str, exts: dict[str, x509.Extension[x509.ExtensionType]],
               file: str) -> list[Finding]:
    if role == LEAF:
        return []
    findings: list[Finding] = []
    aki = exts.get(AKI)
    if aki is not None and isinstance(aki.value, x509.AuthorityKeyIdentifier):
        if aki.value.key_identifier is None:
            findings.append(_error(file, cert, role, "has an authorityKeyIdentifier without keyIdentifier"))
        if aki.value.authority_cert_issuer is not None or aki.value.authority_cert_serial_number is not None:
            findings.append(_error(file, cert, role, "has an authorityKeyIdentifier naming issuer and serial"))
    # RFC 5280 §4.2.1.1-2: a CA certificate carries subjectKeyIdentifier, and one that another CA
    # issued carries authorityKeyIdentifier.  Python 3.13's default TLS context sets
    # VERIFY_X509_STRICT, as `openssl verify -x509_strict` does, and refuses chains without them.
    strict = "; Python 3.13+ ssl (VERIFY_X509_STRICT) and OpenSSL with -x509_strict refuse it"
    if SKI not in exts:
        findings.append(_error(file, cert, role, f"lacks subjectKeyIdentifier{strict}"))
    if AKI not in exts and cert.issuer != cert.subject:
        findings.append(_error(file, cert, role, f"lacks authorityKeyIdentifier{strict}"))
    # empty nameConstraints constrain nothing: OpenSSL, GnuTLS and NSS accept them (see .lenient)
    return findings


@functools.lru_cache(maxsize=256)
def _certificate_checks(cert: x509.Certificate, role: str) -> tuple[Finding, ...]:
    unparsable = check_extensions(cert, role, "")
    if unparsable:
        return tuple(unparsable)
    return tuple(check_basic(cert, role, "") + check_profile(cert, role, "") + check_strength(cert, role, ""))


def certificate_checks(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """Everything about ``cert`` in ``role`` that does not depend on time or path.

    Cached per certificate and role: a host's lineages share their intermediate
    and root, which then are checked once per process, not once per lineage.
    """
    return [dataclasses.replace(f, file=file) for f in _certificate_checks(cert, role)]
