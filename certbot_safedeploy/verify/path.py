"""Path validation as a TLS client does it: the entry point the other modules call.

:func:`validate_chain` takes the leaf and the certificates that came with it as
an unordered pool (RFC 8446 §4.4.2 lets servers send extra or reordered
certificates; clients build their own path), the trust anchors, the name to
validate for and the validation time.  It returns one-line findings and, when the
leaf is trusted, the path leaf .. anchor.

Engines: cryptography's validator (42+) decides when available; the built-in
one (:mod:`.builtin`) decides on older cryptography, or when asked for with
``engine="builtin"`` or ``SAFEDEPLOY_VERIFY_ENGINE=builtin``.  Our own strength
and extension checks run on top of the library's verdict, and when it refuses,
the built-in engine's specific finding names the reason.  Where the library
refuses only because it cannot parse or name something clients handle (a DNS
name it will not build, a malformed extension OpenSSL, GnuTLS and NSS parse), the
built-in engine decides, and a passed finding says so (shown with ``-v``).

On top of either engine's path, as clients do it:

* the exact notAfter second counts as expired (OpenSSL);
* a wildcard over a public suffix covers nothing (:mod:`.publicsuffix`);
* a pool in which a client that does not backtrack takes a dead-end issuer is
  refused, naming the certificate to drop (:mod:`.greedy`);
* trust anchors that are not self-signed only serve as intermediates
  (:class:`~.chain.TrustStore`);
* what one client family refuses is a warning naming it (:mod:`.clientquirks`).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import (builtin, certinfo, clientquirks, greedy, library, names, policy,
                                       profile, report)
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.report import Finding, Severity

BUILTIN = "built-in"
ENV = "SAFEDEPLOY_VERIFY_ENGINE"


@dataclasses.dataclass(frozen=True)
class PathResult:
    findings: list[Finding]  # errors/warnings/passes, each one line: file, check, fix
    path: tuple[x509.Certificate, ...] | None  # leaf .. anchor when trusted, else None
    engine: str  # "cryptography <version>" or "built-in"

    @property
    def ok(self) -> bool:
        return self.path is not None and not any(f.severity is Severity.ERROR for f in self.findings)


def engine_name(engine: str | None = None) -> str:
    """The engine that will decide: an explicit choice, then $SAFEDEPLOY_VERIFY_ENGINE."""
    choice = (engine or os.environ.get(ENV, "")).strip().lower()
    if choice in ("builtin", "built-in") or not library.AVAILABLE:
        return BUILTIN
    return library.NAME


def _passed(path: Sequence[x509.Certificate], trust: TrustStore, engine: str, file: str) -> Finding:
    return report.passed(file, "trust", f"{len(path)}-certificate path to the trust anchor "
                         f"{certinfo.describe(path[-1])} "
                         f"in {trust.source} (decided by {engine})")


def _on_top(path: Sequence[x509.Certificate], dns_name: str | None, now: datetime.datetime,
            file: str) -> list[Finding]:
    """Our checks over the library's path: profile, the notAfter second, public-suffix wildcards."""
    roles = [policy.LEAF] + [policy.INTERMEDIATE] * (len(path) - 2) + [policy.ANCHOR]
    found: list[Finding] = []
    for cert, role in zip(path, roles):
        found += profile.certificate_checks(cert, role, file)
        found += policy.check_validity(cert, role, now, file)
    if dns_name:
        sans = names.san_names(path[0])
        if not any(names.covers(s, dns_name) for s in sans):
            found.append(report.error(file, "names", f"the leaf does not cover {dns_name} "
                                      f"{names.why_not_covered(sans, dns_name)}",
                                      "re-issue with every name (certbot certonly --cert-name ... -d ...)"))
    return found


# the library's refusals that are its parser's, not a client's: the built-in engine decides these
_PARSER_REFUSALS = ("malformed", "invalid domain name", "invalid dns", "invalid name", "parse", "parsing",
                    "invalid length", "non-empty list", "must have non-empty", "must not be none")


def _parser_refusal(reason: str) -> bool:
    lowered = reason.lower()
    return any(fragment in lowered for fragment in _PARSER_REFUSALS)


def _delegated(result: PathResult, reason: str, file: str) -> PathResult:
    """The built-in engine's verdict, with a note that the library could not judge the input."""
    note = report.passed(file, "engine", f"{library.NAME} cannot judge this input ({reason[:160]}); "
                         "OpenSSL, GnuTLS and NSS parse it, so the built-in engine decided")
    return PathResult([*result.findings, note], result.path, result.engine)


def _library(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore,
             dns_name: str | None, now: datetime.datetime, file: str, engine: str) -> PathResult:
    reason = "the leaf has no usable subjectAltName"
    try:
        subject = library.subject_for(leaf, dns_name)
    except x509.ExtensionNotFound:
        subject = None
    except Exception as exc:  # noqa: BLE001 - malformed SAN: the built-in engine names it
        subject, reason = None, f"its subjectAltName cannot be parsed ({exc})"
    if subject is not None:
        try:
            path, reason = library.verify(leaf, untrusted, trust, subject, now)
        except Exception as exc:  # noqa: BLE001 - the library cannot judge this input: ours decides
            return _delegated(_builtin(leaf, untrusted, trust, dns_name, now, file),
                              f"{type(exc).__name__}: {exc}", file)
    else:
        path = None
    if path is not None:
        extra = _on_top(path, dns_name, now, file)
        if extra:
            return PathResult(extra, None, engine)
        return PathResult([_passed(path, trust, engine, file)], path, engine)
    own, errors = builtin.build_path(leaf, untrusted, trust, dns_name=dns_name, now=now, file=file)
    if own is not None and _parser_refusal(reason):
        return _delegated(PathResult([_passed(own, trust, BUILTIN, file)], own, BUILTIN), reason, file)
    return PathResult(errors or [library.translate(reason, file)], None, engine)


def _builtin(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore,
             dns_name: str | None, now: datetime.datetime, file: str) -> PathResult:
    path, errors = builtin.build_path(leaf, untrusted, trust, dns_name=dns_name, now=now, file=file)
    if path is None:
        return PathResult(errors or [report.error(file, "trust", "no valid path to a trust anchor",
                                                  "re-issue to get the CA's full chain")], None, BUILTIN)
    return PathResult([_passed(path, trust, BUILTIN, file)], path, BUILTIN)


def _decide(leaf: x509.Certificate, pool: Sequence[x509.Certificate], trust: TrustStore,
            dns_name: str | None, now: datetime.datetime, file: str, name: str) -> PathResult:
    if name != BUILTIN:
        return _library(leaf, pool, trust, dns_name, now, file, name)
    return _builtin(leaf, pool, trust, dns_name, now, file)


def _not_self_signed(trust: TrustStore, certs: Sequence[x509.Certificate], file: str) -> list[Finding]:
    """Why a trusted certificate that would issue one of ``certs`` did not anchor the path."""
    issuers = set()
    for cert in certs:
        try:
            issuers.add(certinfo.issuer_der(cert))
        except Malformed:
            continue
    relevant = [c for c in trust.set_aside if certinfo.subject_der(c) in issuers]
    return [report.error(
        file, "anchor", f"the trust anchor {certinfo.describe(cert)} in {trust.source} is not self-signed "
        "(its issuer is another name, or its authorityKeyIdentifier names another key): OpenSSL, GnuTLS "
        "and Python's ssl end a path only at a self-signed root",
        "add the root that issued it to the trust anchors, or give it with --partial-chain-anchor "
        "if it is trusted on purpose") for cert in relevant]


def _first_choice_trap(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore,
                       result: PathResult, dns_name: str | None, now: datetime.datetime, file: str,
                       name: str) -> Finding | None:
    """A refusal when a client that does not backtrack takes an issuer that leads nowhere."""
    assert result.path is not None
    on_path = [certinfo.der(c) for c in result.path[1:]]
    pool = list(untrusted) + list(trust.set_aside)
    for order, who in ((pool, "OpenSSL and GnuTLS take the first such certificate"),
                       (pool[::-1], "NSS was seen to take the last one sent")):
        picks = greedy.first_choices(leaf, order, trust, now)
        if [certinfo.der(c) for c in picks] == on_path[:len(picks)] and len(picks) == len(on_path) - 1:
            continue
        if _decide(leaf, picks, trust, dns_name, now, file, name).ok:
            continue
        wrong = next((c for c in picks if certinfo.der(c) not in on_path), None)
        if wrong is None:
            continue
        sent = [certinfo.der(c) for c in untrusted]
        where = (f"chain certificate {sent.index(certinfo.der(wrong)) + 1}" if certinfo.der(wrong) in sent
                 else "the trusted certificate")
        what = f"{where} ({certinfo.describe(wrong)}, issued by {_issuer_text(wrong)})"
        return report.error(
            file, "path", f"{what} is a candidate issuer that leads nowhere, and a client that does "
            f"not backtrack takes it and fails ({who}); only a backtracking verifier finds the path "
            f"{' -> '.join(certinfo.describe(c) for c in result.path)}",
            f"drop {what} from the chain")
    return None


def _issuer_text(cert: x509.Certificate) -> str:
    try:
        return cert.issuer.rfc4514_string()
    except Exception:  # noqa: BLE001
        return "an unparsable name"


def validate_chain(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore, *,
                   dns_name: str | None, now: datetime.datetime, file: str,
                   engine: str | None = None) -> PathResult:
    """Validate ``leaf`` for ``dns_name`` at ``now`` over the pool ``untrusted``; never raises."""
    name = engine_name(engine)
    try:
        pool = [*untrusted, *trust.set_aside]
        result = _decide(leaf, pool, trust, dns_name, now, file, name)
        if result.path is None:
            why = _not_self_signed(trust, [leaf, *pool], file)
            return PathResult([*why, *result.findings], None, result.engine) if why else result
        trap = _first_choice_trap(leaf, untrusted, trust, result, dns_name, now, file, name)
        if trap is not None:
            return PathResult([trap], None, result.engine)
        read = [report.passed(file, "parse", f"{certinfo.describe(cert)} has {note}; cryptography "
                              "refuses to parse it, OpenSSL, GnuTLS and NSS read it so, and so does the gate")
                for cert in result.path for note in certinfo.read_leniently(cert)]
        return PathResult([*result.findings, *read, *clientquirks.path_warnings(result.path, file)],
                          result.path, result.engine)
    except Malformed as exc:
        return PathResult([policy.malformed(file, leaf, policy.LEAF, exc)], None, name)
    except Exception as exc:  # noqa: BLE001 - hostile input must give a refusal, not a traceback
        return PathResult([report.error(file, "malformed", f"the certificates cannot be processed "
                                        f"({type(exc).__name__}: {str(exc)[:120]})",
                                        "discard them and re-issue the certificate")], None, name)
