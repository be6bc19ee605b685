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
the built-in engine's specific finding names the reason.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import builtin, certinfo, library, policy, profile, report
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


def _on_top(path: Sequence[x509.Certificate], file: str) -> list[Finding]:
    roles = [policy.LEAF] + [policy.INTERMEDIATE] * (len(path) - 2) + [policy.ANCHOR]
    found: list[Finding] = []
    for cert, role in zip(path, roles):
        found += profile.certificate_checks(cert, role, file)
    return found


def _library(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore,
             dns_name: str | None, now: datetime.datetime, file: str, engine: str) -> PathResult:
    try:
        subject = library.subject_for(leaf, dns_name)
    except x509.ExtensionNotFound:
        subject = None
    except Exception:  # noqa: BLE001 - malformed SAN: the built-in engine names it
        subject = None
    if subject is not None:
        try:
            path, reason = library.verify(leaf, untrusted, trust, subject, now)
        except Exception:  # noqa: BLE001 - the library cannot judge this input: ours decides
            return _builtin(leaf, untrusted, trust, dns_name, now, file)
    else:
        path, reason = None, "the leaf has no usable subjectAltName"
    if path is not None:
        extra = _on_top(path, file)
        if extra:
            return PathResult(extra, None, engine)
        return PathResult([_passed(path, trust, engine, file)], path, engine)
    _, errors = builtin.build_path(leaf, untrusted, trust, dns_name=dns_name, now=now, file=file)
    return PathResult(errors or [library.translate(reason, file)], None, engine)


def _builtin(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore,
             dns_name: str | None, now: datetime.datetime, file: str) -> PathResult:
    path, errors = builtin.build_path(leaf, untrusted, trust, dns_name=dns_name, now=now, file=file)
    if path is None:
        return PathResult(errors or [report.error(file, "trust", "no valid path to a trust anchor",
                                                  "re-issue to get the CA's full chain")], None, BUILTIN)
    return PathResult([_passed(path, trust, BUILTIN, file)], path, BUILTIN)


def validate_chain(leaf: x509.Certificate, untrusted: Sequence[x509.Certificate], trust: TrustStore, *,
                   dns_name: str | None, now: datetime.datetime, file: str,
                   engine: str | None = None) -> PathResult:
    """Validate ``leaf`` for ``dns_name`` at ``now`` over the pool ``untrusted``; never raises."""
    name = engine_name(engine)
    try:
        if name != BUILTIN:
            return _library(leaf, untrusted, trust, dns_name, now, file, name)
        return _builtin(leaf, untrusted, trust, dns_name, now, file)
    except Malformed as exc:
        return PathResult([policy.malformed(file, leaf, policy.LEAF, exc)], None, name)
    except Exception as exc:  # noqa: BLE001 - hostile input must give a refusal, not a traceback
        return PathResult([report.error(file, "malformed", f"the certificates cannot be processed "
                                        f"({type(exc).__name__}: {str(exc)[:120]})",
                                        "discard them and re-issue the certificate")], None, name)
