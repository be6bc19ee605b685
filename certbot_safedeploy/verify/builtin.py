"""The built-in path builder: RFC 5280 §6 path validation with the Web PKI profile.

Used where cryptography has no ``x509.verification`` (before 42: Ubuntu 22.04's
3.4.8, Debian 12's 38.0.4), and to name the reason when the library refuses.
Like a TLS client, it treats the certificates it is given as an unordered pool and
searches (depth first, trust anchors before pool certificates) for a path
leaf -> ... -> anchor on which every certificate passes every check of
:mod:`.policy`, :mod:`.constraints` and the validity windows.  When no path
passes, it reports the failures of the attempt that got furthest.
"""

from __future__ import annotations

import datetime
import ipaddress
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import certinfo, constraints, names, policy, profile, report, sigcheck
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.policy import ANCHOR, INTERMEDIATE, LEAF
from certbot_safedeploy.verify.report import Finding

MAX_INTERMEDIATES = 8  # cryptography's default max_chain_depth
MAX_SIGNATURES = 256  # path-building budget: hostile pools must not cost more than this


def _san(cert: x509.Certificate) -> tuple[list[str], list[constraints.IPName]] | None:
    ext = certinfo.extension(cert, x509.SubjectAlternativeName)
    if ext is None:
        return None
    ips = [a for a in ext.value.get_values_for_type(x509.IPAddress)
           if isinstance(a, (ipaddress.IPv4Address, ipaddress.IPv6Address))]
    return list(ext.value.get_values_for_type(x509.DNSName)), ips


def leaf_findings(leaf: x509.Certificate, dns_name: str | None, now: datetime.datetime,
                  file: str) -> list[Finding]:
    """Everything about the leaf that does not depend on the path."""
    findings = profile.certificate_checks(leaf, LEAF, file)
    findings += policy.check_validity(leaf, LEAF, now, file)
    findings += policy.check_leaf(leaf, file)
    try:
        sans = _san(leaf)
    except Malformed:
        return findings  # reported by check_extensions
    if sans is None:
        findings.append(report.error(file, "names", "the leaf has no subjectAltName; clients match "
                                     "server names only against it (RFC 6125 §6.4.4)",
                                     "re-issue with every name in the subjectAltName"))
    elif dns_name and not any(names.covers(s, dns_name) for s in [*sans[0], *map(str, sans[1])]):
        why = names.why_not_covered([*sans[0], *map(str, sans[1])], dns_name)
        findings.append(report.error(file, "names", f"the leaf does not cover {dns_name} {why}",
                                     "re-issue with every name (certbot certonly --cert-name ... -d ...)"))
    return findings


class _Exhausted(Exception):
    """The path-building budget ran out."""


class _Search:
    def __init__(self, pool: Sequence[x509.Certificate], trust: TrustStore,
                 now: datetime.datetime, file: str) -> None:
        self.trust, self.now, self.file = trust, now, file
        self.pool: dict[bytes, list[x509.Certificate]] = {}
        for cert in pool:
            try:
                self.pool.setdefault(certinfo.subject_der(cert), []).append(cert)
            except Malformed:
                continue
        self.best: tuple[tuple[int, int], list[Finding]] = ((-1, -1), [])
        self.budget = MAX_SIGNATURES

    def signed(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        if self.budget <= 0:
            raise _Exhausted()
        self.budget -= 1
        return sigcheck.signed_by(cert, issuer)

    def record(self, reached: bool, depth: int, findings: list[Finding]) -> None:
        if findings and (int(reached), depth) > self.best[0]:
            self.best = ((int(reached), depth), findings)

    def issuer_problems(self, cand: x509.Certificate, role: str,
                        path: list[x509.Certificate]) -> list[Finding]:
        f = self.file
        problems = profile.certificate_checks(cand, role, f)
        if any(p.check == "malformed" for p in problems):
            return problems
        problems += policy.check_validity(cand, role, self.now, f)
        problems += policy.check_issuer(cand, role, f)
        limit = policy.path_length(cand)
        below = path[1:]  # GnuTLS counts self-issued intermediates too (RFC 5280 §4.2.1.9 does not)
        if limit is not None and len(below) > limit:
            problems.append(report.error(
                f, "path-length", f"{policy.label(cand, role)} allows {limit} intermediate(s) below it "
                f"(pathLenConstraint), the path has {len(below)} (RFC 5280 §4.2.1.9; GnuTLS counts "
                "self-issued ones too)", policy.REISSUE))
        nc = certinfo.extension(cand, x509.NameConstraints)
        if nc is not None:
            bound = [path[0]] + [c for c in path[1:] if not certinfo.self_issued(c)]
            for cert in bound:
                ext = certinfo.extension(cert, x509.SubjectAlternativeName)
                for problem in constraints.violations(nc.value, list(ext.value) if ext else []):
                    problems.append(report.error(
                        f, "name-constraints", f"{policy.label(cand, role)} constrains names "
                        f"(RFC 5280 §4.2.1.10): {problem}", "re-issue within the CA's permitted names"))
        return problems

    def _bad_signature(self, cert: x509.Certificate, cand: x509.Certificate, depth: int,
                       anchor: bool) -> None:
        role = LEAF if depth == 1 else INTERMEDIATE
        oid, alg = sigcheck.signature_algorithm(cert)
        if oid in sigcheck.WEAK_SIGNATURES:
            return  # named by check_strength as a weak algorithm, never as forged
        what = "trust anchor" if anchor else "certificate"
        self.record(False, depth - 1, [report.error(
            self.file, "trust" if anchor else "signature",
            f"the signature on {policy.label(cert, role)} does not verify with the key of the {what} "
            f"{certinfo.describe(cand)}: a forged or corrupted certificate, or another CA of the same name",
            "discard this chain and re-issue the certificate")])

    def extend(self, path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        cert, depth = path[-1], len(path)
        issuer = certinfo.issuer_der(cert)
        seen = {(certinfo.subject_der(c), certinfo.spki(c)) for c in path}  # RFC 4158 loop check
        found = False
        for anchor in self.trust.by_subject(issuer):
            found = True
            if not self.signed(cert, anchor):
                self._bad_signature(cert, anchor, depth, anchor=True)
                continue
            problems = self.issuer_problems(anchor, ANCHOR, path)
            if not problems:
                return [*path, anchor]
            self.record(True, depth, problems)
        if depth > MAX_INTERMEDIATES:
            self.record(False, depth, [report.error(
                self.file, "trust", f"no trust anchor within {MAX_INTERMEDIATES} intermediates",
                "send a shorter chain")])
            return None
        for cand in self.pool.get(issuer, []):
            if (certinfo.subject_der(cand), certinfo.spki(cand)) in seen:
                continue
            found = True
            if not self.signed(cert, cand):
                self._bad_signature(cert, cand, depth, anchor=False)
                continue
            problems = self.issuer_problems(cand, INTERMEDIATE, path)
            if problems:
                self.record(False, depth, problems)
                continue
            result = self.extend([*path, cand])
            if result is not None:
                return result
        if not found:
            self.record(False, depth - 1, [self.no_issuer(cert, depth)])
        return None

    def no_issuer(self, cert: x509.Certificate, depth: int) -> Finding:
        role = LEAF if depth == 1 else INTERMEDIATE
        if certinfo.self_issued(cert):
            return report.error(self.file, "trust", f"the path ends at the self-signed {certinfo.describe(cert)}, "
                                f"which is not a trust anchor in {self.trust.source}",
                                "add that root to trust_anchors / --trust-anchor if you trust it")
        try:
            issuer = cert.issuer.rfc4514_string()
        except Exception:  # noqa: BLE001
            issuer = "an unparsable name"
        return report.error(
            self.file, "trust", f"{policy.label(cert, role)} was issued by {issuer}, which is neither in "
            f"the chain nor a trust anchor in {self.trust.source}: a missing intermediate or an untrusted root",
            "re-issue to get the full chain, or add the CA's root to the trust anchors")


def build_path(leaf: x509.Certificate, pool: Sequence[x509.Certificate], trust: TrustStore, *,
               dns_name: str | None, now: datetime.datetime,
               file: str) -> tuple[tuple[x509.Certificate, ...] | None, list[Finding]]:
    """(path, error findings): the path is None when the leaf is refused."""
    try:
        findings = leaf_findings(leaf, dns_name, now, file)
        search = _Search(pool, trust, now, file)
        try:
            path = search.extend([leaf])
        except _Exhausted:
            path = None
            search.record(True, MAX_INTERMEDIATES + 2, [report.error(
                file, "trust", f"no path found within {MAX_SIGNATURES} signature checks: the pool "
                "holds too many candidate issuers (a denial-of-service shape)",
                "send only the leaf and its own intermediates")])
    except Malformed as exc:
        return None, [policy.malformed(file, leaf, LEAF, exc)]
    if path is None:
        findings += search.best[1] or [report.error(file, "trust", "no valid path to a trust anchor",
                                                    "re-issue to get the CA's full chain")]
    errors = [f for f in findings if f.severity is report.Severity.ERROR]
    return (None if errors or path is None else tuple(path)), errors


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
