"""Judge what a TLS server sent, as a client would (RFC 8446 §4.4.2, RFC 5280 §6).

A server sends its leaf and then, usually, the intermediates; clients build a
path from that pool to their own trust anchors.  Pure: DER in, findings out.
When no path exists, :func:`judge_served` also names the likely cause in words
an operator recognizes: the service reads ``cert.pem`` instead of
``fullchain.pem``, serves another certificate's chain, or an expired
intermediate.  A served chain with a dead-end issuer (a second certificate named
like the intermediate, that leads to no anchor) is refused even where a
backtracking verifier finds the path: OpenSSL fails when it comes first, NSS when
it comes last (:mod:`.greedy`), and the finding names the certificate to drop.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import certinfo, report
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.path import validate_chain
from certbot_safedeploy.verify.report import Finding, Severity

NO_INTERMEDIATE = "the service sends no intermediate: does it read cert.pem instead of fullchain.pem?"


@dataclasses.dataclass(frozen=True)
class ServedVerdict:
    findings: list[Finding]
    cause: str | None  # the likely cause of a failure, in the operator's words
    engine: str

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def summary(self) -> str:
        """One line: the cause if known, then the first error."""
        errors = [f for f in self.findings if f.severity is Severity.ERROR]
        if not errors:
            return "a client validates the served chain"
        first = errors[0]
        detail = f"{first.check}: {first.message}" + (f" (fix: {first.fix})" if first.fix and not self.cause else "")
        return f"{self.cause} ({detail})" if self.cause else detail


def _load(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def likely_cause(leaf: x509.Certificate, sent: Sequence[x509.Certificate], trust: TrustStore,
                 now: datetime.datetime) -> str | None:
    """Why a client finds no path, when the usual suspects explain it; None otherwise."""
    try:
        issuer = certinfo.issuer_der(leaf)
        if trust.issuers_of(leaf):
            return None  # issued by an anchor directly: the chain does not matter
        candidates = [c for c in sent if certinfo.subject_der(c) == issuer]
    except Malformed:
        return None
    if not sent:
        return NO_INTERMEDIATE
    for cert in candidates:
        if certinfo.not_after(cert) < now:
            return (f"the service sends an expired intermediate ({certinfo.describe(cert)}, expired "
                    f"{certinfo.not_after(cert):%Y-%m-%d}): install the CA's current chain (fullchain.pem)")
    if not candidates:
        return (f"the service sends the wrong chain: {certinfo.describe(sent[0])} did not issue this "
                f"certificate (its issuer is {leaf.issuer.rfc4514_string()}): is the chain file from "
                "another certificate? point the service at this lineage's fullchain.pem")
    return None


def judge_served(leaf_der: bytes, chain_der: Sequence[bytes], trust: TrustStore, *, servername: str | None,
                 now: datetime.datetime, where: str, engine: str | None = None) -> ServedVerdict:
    """Validate the served leaf for ``servername`` over the certificates the server sent."""
    leaf = _load(leaf_der)
    if leaf is None:
        return ServedVerdict([report.error(where, "malformed", "the service sends a leaf that is not a "
                                           "parsable X.509 certificate", "check the certificate file it reads")],
                             None, "none")
    sent: list[x509.Certificate] = []
    findings: list[Finding] = []
    for i, der in enumerate(chain_der, 1):
        cert = _load(der)
        if cert is None:
            findings.append(report.warning(where, "malformed", f"certificate {i} after the leaf is not "
                                           "parsable X.509; clients ignore it or fail",
                                           "remove it from the chain file the service reads"))
        else:
            sent.append(cert)
    result = validate_chain(leaf, sent, trust, dns_name=servername or None, now=now, file=where, engine=engine)
    findings = result.findings + findings
    if not result.ok and not any(f.severity is Severity.ERROR for f in findings):
        findings.append(report.error(where, "trust", "no valid path to a trust anchor",
                                     "serve the CA's full chain (fullchain.pem)"))
    cause = None if result.ok else likely_cause(leaf, sent, trust, now)
    return ServedVerdict(findings, cause, result.engine)
