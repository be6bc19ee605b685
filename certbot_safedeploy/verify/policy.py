"""Client-grade checks on one certificate in its role on a path (RFC 5280 §4.2, §6.1.4).

These follow the Web PKI profile cryptography's validator applies (the CA/B Forum
Baseline Requirements as browsers enforce them):

* the leaf's extendedKeyUsage, when present, contains serverAuth (RFC 5280
  §4.2.1.12); an absent EKU is accepted, as browsers and cryptography do;
* the leaf is not a CA and does not assert keyCertSign;
* every issuer is a CA (basicConstraints cA, §4.2.1.9) with keyCertSign (§4.2.1.3);
* no unknown extension is marked critical (§4.2): a client must refuse it;
* keys: RSA >= 2048 bits, EC on P-256/P-384/P-521, no DSA; signatures: no MD5/SHA-1.

Each problem is its own :class:`~.report.Finding` with a check name and a fix.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certbot_safedeploy.verify import certinfo, report, sigcheck
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.report import Finding

LEAF, INTERMEDIATE, ANCHOR = "leaf", "intermediate", "trust anchor"

# extensions a client processes; any other one marked critical is a refusal
# (as cryptography's Web PKI policy: certificate policies are not processed, so critical ones refuse)
KNOWN_EXTENSIONS = frozenset({
    "2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17", "2.5.29.30",  # BC, KU, EKU, SAN, NC
    "2.5.29.14", "2.5.29.35", "1.3.6.1.5.5.7.1.1",  # SKI, AKI, AIA
})
ANY_EKU = "2.5.29.37.0"
REISSUE = "re-issue from a CA whose certificates meet the Web PKI profile"


def label(cert: x509.Certificate, role: str) -> str:
    return "the leaf" if role == LEAF else f"the {role} {certinfo.describe(cert)}"


def malformed(file: str, cert: x509.Certificate, role: str, exc: Malformed) -> Finding:
    return report.error(file, "malformed", f"{label(cert, role)} has {exc}",
                        "discard this certificate: clients cannot parse it; " + REISSUE)


def check_extensions(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """Parsable extensions, none duplicated, no unknown critical one (RFC 5280 §4.2)."""
    try:
        exts = certinfo.extensions(cert)
    except Malformed as exc:
        return [malformed(file, cert, role, exc)]
    unknown = [e.oid.dotted_string for e in exts
               if e.critical and e.oid.dotted_string not in KNOWN_EXTENSIONS]
    if unknown:
        return [report.error(file, "critical-extension",
                             f"{label(cert, role)} has the unknown critical extension(s) "
                             f"{', '.join(unknown)}, which clients must refuse (RFC 5280 §4.2)",
                             REISSUE)]
    return []


def check_strength(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """Weak key of this certificate; weak algorithm of its signature (not for anchors)."""
    findings: list[Finding] = []
    weakness = sigcheck.key_weakness(cert)
    if weakness:
        findings.append(report.error(file, "weak-key", f"{label(cert, role)} has a weak key: {weakness}",
                                     "re-issue with an RSA 2048+ or EC P-256/P-384 key"))
    elif role != LEAF and not sigcheck.ca_key_permitted(cert):
        findings.append(report.error(file, "key-type", f"{label(cert, role)} has a key type the Web PKI "
                                     "does not permit for CAs (only RSA and EC P-256/P-384/P-521)",
                                     REISSUE))
    if role != ANCHOR:
        oid, name = sigcheck.signature_algorithm(cert)
        if oid in sigcheck.WEAK_SIGNATURES:
            findings.append(report.error(
                file, "weak-signature",
                f"{label(cert, role)} is signed with {name}, a weak signature algorithm clients refuse",
                "re-issue: the CA must sign with SHA-256 or better"))
        elif oid not in sigcheck.WEBPKI_SIGNATURES:
            findings.append(report.error(
                file, "signature-algorithm",
                f"{label(cert, role)} is signed with {name}, which the Web PKI does not permit",
                "re-issue: the CA must sign with RSA or ECDSA and SHA-256/384/512"))
    return findings


def check_validity(cert: x509.Certificate, role: str, now: datetime.datetime, file: str) -> list[Finding]:
    start, end = certinfo.not_before(cert), certinfo.not_after(cert)
    now = now.replace(microsecond=0)  # RFC 5280 §4.1.2.5: validity has one-second granularity
    check = "anchor" if role == ANCHOR else "validity"
    if now < start:
        return [report.error(file, check, f"{label(cert, role)} is not valid until {start.isoformat()}",
                             "check the system clock (timedatectl) and wait or re-issue")]
    if now >= end:  # OpenSSL: notAfter is the first second a certificate is expired
        fix = ("renew the certificate (certbot renew --cert-name ...)" if role == LEAF else
               "update the trust store (ca-certificates) and re-issue to get the CA's current chain")
        return [report.error(file, check, f"{label(cert, role)} expired at {end.isoformat()}", fix)]
    return []


def _usage_extensions(cert: x509.Certificate) -> tuple[
        x509.Extension[x509.BasicConstraints] | None, x509.Extension[x509.KeyUsage] | None,
        x509.Extension[x509.ExtendedKeyUsage] | None]:
    return (certinfo.extension(cert, x509.BasicConstraints), certinfo.extension(cert, x509.KeyUsage),
            certinfo.extension(cert, x509.ExtendedKeyUsage))


def check_leaf(cert: x509.Certificate, file: str) -> list[Finding]:
    """The end-entity rules: not a CA, no keyCertSign, EKU allows serverAuth."""
    findings: list[Finding] = []
    try:
        bc, ku, eku = _usage_extensions(cert)
    except Malformed:
        return []  # reported by check_extensions
    if bc is not None and bc.value.ca:
        findings.append(report.error(file, "leaf-ca", "the leaf is a CA certificate (basicConstraints cA=TRUE); "
                                     "clients refuse a CA as server certificate", REISSUE))
    if ku is not None and ku.value.key_cert_sign:
        findings.append(report.error(file, "leaf-ca", "the leaf asserts keyCertSign in keyUsage; "
                                     "clients refuse a certificate-signing key as server certificate",
                                     REISSUE))
    if eku is not None:
        usages = {u.dotted_string for u in eku.value}
        if ExtendedKeyUsageOID.SERVER_AUTH.dotted_string not in usages:
            findings.append(report.error(
                file, "eku", "the leaf's extendedKeyUsage does not allow serverAuth "
                f"({', '.join(sorted(usages)) or 'empty'}); TLS clients refuse it (RFC 5280 §4.2.1.12)",
                "re-issue a TLS server certificate (EKU serverAuth)"))
    return findings


def check_issuer(cert: x509.Certificate, role: str, file: str) -> list[Finding]:
    """An issuer must be a CA with keyCertSign; a CA's EKU, when present, allows serverAuth."""
    findings: list[Finding] = []
    try:
        bc, ku, eku = _usage_extensions(cert)
    except Malformed:
        return []  # reported by check_extensions
    check = "anchor" if role == ANCHOR else "ca"
    if bc is None or not bc.value.ca:
        findings.append(report.error(file, check, f"{label(cert, role)} issues certificates but is not a CA "
                                     "(basicConstraints cA=FALSE or absent, RFC 5280 §4.2.1.9)",
                                     "remove it from the trust anchors" if role == ANCHOR else REISSUE))
    if ku is None:
        findings.append(report.error(file, "key-usage", f"{label(cert, role)} issues certificates but has "
                                     "no keyUsage extension (the Web PKI requires keyCertSign)", REISSUE))
    elif not ku.value.key_cert_sign:
        findings.append(report.error(file, "key-usage", f"{label(cert, role)} issues certificates but its "
                                     "keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3)", REISSUE))
    if eku is not None:
        usages = {u.dotted_string for u in eku.value}
        if not usages & {ExtendedKeyUsageOID.SERVER_AUTH.dotted_string, ANY_EKU}:
            findings.append(report.error(
                file, "eku", f"{label(cert, role)} restricts extendedKeyUsage to "
                f"{', '.join(sorted(usages)) or 'nothing'}, without serverAuth", REISSUE))
    return findings


def path_length(cert: x509.Certificate) -> int | None:
    try:
        bc = certinfo.extension(cert, x509.BasicConstraints)
    except Malformed:
        return None
    return None if bc is None else bc.value.path_length
