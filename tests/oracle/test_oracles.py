"""The gate against real clients: OpenSSL, GnuTLS and NSS judge every case too.

A case fails when

* the gate accepts and a client refuses, unless the gate warned and named that
  client (the warned list: docs/verification-policy.rst);
* the gate refuses and every client accepts, unless the case is one of the
  deliberate refusals (:data:`tests.oracle.cases.DELIBERATE`, each with its reason).

Both engines run.  ``SAFEDEPLOY_LIMBO`` names an x509-limbo ``limbo.json`` to run
the same comparison over; without it that test is skipped (limbo cannot be
downloaded in CI, and nothing of it is committed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography import x509

from certbot_safedeploy.material.trust import anchors_from_pem
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.path import PathResult, validate_chain
from certbot_safedeploy.verify.report import Severity
from tests.oracle import clients
from tests.oracle.cases import DELIBERATE, DELIBERATE_FINDINGS, catalogue, deliberate_reason
from tests.oracle.clients import Case

pytestmark = pytest.mark.skipif(bool(clients.missing_tools()),
                                reason=f"client oracles missing: {clients.missing_tools()} "
                                       "(scripts/setup installs openssl, gnutls-bin, libnss3-tools)")

WARN_WORDS = {"nss": "NSS", "gnutls": "GnuTLS", "openssl": "OpenSSL"}


def _cert(value):
    return x509.load_pem_x509_certificate(value) if isinstance(value, bytes) else value


def gate(case: Case, engine: str):
    anchors = [a for a in case.anchors if not isinstance(a, bytes)]
    anchors += list(anchors_from_pem(b"".join(a for a in case.anchors if isinstance(a, bytes)))
                    if any(isinstance(a, bytes) for a in case.anchors) else [])
    return validate_chain(_cert(case.leaf), [_cert(c) for c in case.pool],
                          TrustStore(anchors, "oracle anchors"),
                          dns_name=case.dns_name, now=case.when, file="cert.pem", engine=engine)


def disagreement(case: Case, engine: str, deliberate: dict[str, tuple[str, str]],
                 by_findings: bool = False) -> str | None:
    """Why the gate's verdict on ``case`` is wrong by the clients' verdicts, or None."""
    try:
        result = gate(case, engine)
    except ValueError:  # cryptography cannot load it: the CLI refuses such a file (pem check)
        result = PathResult([], None, engine)
    answers = clients.ask(case)
    warnings = " ".join(f.message for f in result.findings if f.severity is Severity.WARNING)
    if result.ok:
        refusing = [c for c, (ok, _) in answers.items() if not ok]
        unwarned = [c for c in refusing if WARN_WORDS[c.split("-")[0]] not in warnings]
        if unwarned:
            first = unwarned[0]
            return (f"gate accepts, {', '.join(unwarned)} refuse(s) without a warning naming them: "
                    f"{answers[first][1][-300:]}")
        return None
    # vfychain does not check the name: a name refusal by every name-checking client is a refusal
    accepting = [c for c, (ok, _) in answers.items() if ok]
    name_ok = all(answers[c][0] for c in clients.NAME_CHECKING)
    on_purpose = case.name in deliberate or (by_findings and deliberate_reason(result.findings))
    if len(accepting) == len(answers) and name_ok and not on_purpose:
        return f"gate refuses what every client accepts: {[f.line() for f in result.findings]}"
    return None


@pytest.mark.parametrize("expected", catalogue(), ids=lambda e: e.case.name)
def test_generated_case(expected, engine):
    case = expected.case
    result = gate(case, engine)
    assert result.ok is expected.gate, [f.line() for f in result.findings]
    if expected.warns:
        assert WARN_WORDS[expected.warns] in " ".join(f.message for f in result.findings), result.findings
    problem = disagreement(case, engine, DELIBERATE)
    assert problem is None, problem


def test_deliberate_list_is_short_and_referenced():
    assert len(DELIBERATE) <= 15 and len({r for _, _, r, _ in DELIBERATE_FINDINGS}) <= 15
    for reason, reference in [*DELIBERATE.values(), *((r, ref) for _, _, r, ref in DELIBERATE_FINDINGS)]:
        assert reason and reference


@pytest.mark.parametrize("expected", [e for e in catalogue() if e.case.name in DELIBERATE], ids=lambda e: e.case.name)
def test_deliberate_cases_are_recognised_by_their_findings(expected, engine):
    assert deliberate_reason(gate(expected.case, engine).findings)


def limbo_cases(path: str) -> list[Case]:
    import datetime

    data = json.loads(Path(path).read_text())["testcases"]
    out = []
    for c in data:
        if c["validation_kind"] != "SERVER" or (c.get("expected_peer_name") or {}).get("kind") != "DNS":
            continue
        when = c.get("validation_time")
        moment = (datetime.datetime.fromisoformat(when.replace("Z", "+00:00")) if when
                  else datetime.datetime.now(datetime.timezone.utc))
        out.append(Case(c["id"], c["peer_certificate"].encode(), [p.encode() for p in c["untrusted_intermediates"]],
                        [t.encode() for t in c["trusted_certs"]], c["expected_peer_name"]["value"], moment))
    return out


@pytest.mark.skipif(not os.environ.get("SAFEDEPLOY_LIMBO"),
                    reason="x509-limbo is not available offline: set SAFEDEPLOY_LIMBO=/path/to/limbo.json "
                           "(built with x509-limbo's own generator) to compare over its server cases")
def test_limbo(engine):
    problems = []
    for case in limbo_cases(os.environ["SAFEDEPLOY_LIMBO"]):
        try:
            problem = disagreement(case, engine, {}, by_findings=True)
        except Exception as exc:  # noqa: BLE001 - a crash is a disagreement too
            problem = f"crash: {type(exc).__name__}: {exc}"
        if problem:
            problems.append(f"{case.name}: {problem[:200]}")
    assert not problems, "\n".join(problems)
