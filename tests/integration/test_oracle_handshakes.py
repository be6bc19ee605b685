"""The gate against real handshakes: openssl s_server serves each generated case on loopback,
Python's ssl and NSS's tstclnt connect (tests/oracle/handshakes.py).  Same rule as
tests/oracle/test_oracles.py: the gate accepts nothing a handshake refuses without a
warning naming that client, and refuses nothing every client accepts unless deliberate."""

from __future__ import annotations

import pytest

from certbot_safedeploy.verify.report import Severity
from tests.oracle import clients, handshakes
from tests.oracle.cases import DELIBERATE, catalogue
from tests.oracle.test_oracles import gate
from tests.verify.conftest import engine  # noqa: F401  (both engines)

from .servers import free_port

WARN_WORDS = {"python-ssl": "OpenSSL", "nss-tstclnt": "NSS"}
SHAKEABLE = [e for e in catalogue() if e.key_pem is not None and e.case.is_now()]

pytestmark = pytest.mark.skipif(bool(clients.missing_tools()), reason="client oracles missing")


@pytest.mark.parametrize("expected", SHAKEABLE, ids=lambda e: e.case.name)
def test_handshake_agrees(expected, engine):  # noqa: F811
    case = expected.case
    result = gate(case, engine)
    assert result.ok is expected.gate, [f.line() for f in result.findings]
    shaken = handshakes.shake(case, expected.key_pem, free_port())
    warned = " ".join(f.message for f in result.findings if f.severity is Severity.WARNING)
    if result.ok:
        unwarned = {c: out for c, (ok, out) in shaken.items() if not ok and WARN_WORDS[c] not in warned}
        assert not unwarned, f"the gate accepts, a handshake refuses: {unwarned}"
    else:
        everyone = {**shaken, **clients.ask(case)}
        assert not all(ok for ok, _ in everyone.values()) or case.name in DELIBERATE, \
            f"the gate refuses what every client accepts: {[f.line() for f in result.findings]}"
