"""What a client concludes from a served chain, on both engines, with the likely cause named."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.served import NO_INTERMEDIATE, judge_served
from tests.pki import DAY, NOW, Pki, make_cert

ENGINES = ["builtin", None]  # None: cryptography's validator where installed


def der(issued) -> bytes:
    return issued.cert.public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def pki():
    return Pki.create("Served")


def judge(pki, leaf, chain, engine, name="example.com", now=None):
    trust = TrustStore([pki.root.cert], "test roots")
    return judge_served(der(leaf), [der(c) for c in chain], trust, servername=name,
                        now=now or datetime.datetime.now(datetime.timezone.utc), where="127.0.0.1:443", engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_leaf_and_intermediate_validate(pki, engine):
    verdict = judge(pki, pki.leaf("example.com"), [pki.intermediate], engine)
    assert verdict.ok and verdict.cause is None
    assert verdict.summary() == "a client validates the served chain"


@pytest.mark.parametrize("engine", ENGINES)
def test_leaf_alone_names_cert_pem(pki, engine):
    verdict = judge(pki, pki.leaf("example.com"), [], engine)
    assert not verdict.ok and verdict.cause == NO_INTERMEDIATE
    assert verdict.summary().startswith("the service sends no intermediate: does it read cert.pem instead of "
                                        "fullchain.pem? (")


@pytest.mark.parametrize("engine", ENGINES)
def test_foreign_intermediate_is_the_wrong_chain(pki, engine):
    other = Pki.create("Other")
    verdict = judge(pki, pki.leaf("example.com"), [other.intermediate], engine)
    assert not verdict.ok
    assert verdict.cause and verdict.cause.startswith("the service sends the wrong chain: CN=Other Intermediate "
                                                      "did not issue this certificate")


def expired_copy(pki):
    """The same intermediate (name and key), as the CA issued it last year."""
    return make_cert("Served Intermediate", issuer=pki.root, ca=True, key=pki.intermediate.key,
                     start=NOW - 400 * DAY, end=NOW - 2 * DAY)


@pytest.mark.parametrize("engine", ENGINES)
def test_expired_intermediate_is_named(pki, engine):
    verdict = judge(pki, pki.leaf("example.com"), [expired_copy(pki)], engine)
    assert not verdict.ok
    assert verdict.cause and verdict.cause.startswith("the service sends an expired intermediate "
                                                      "(CN=Served Intermediate, expired ")


@pytest.mark.parametrize("engine", ENGINES)
def test_expired_extra_beside_a_current_intermediate_is_fine(pki, engine):
    """A stale copy sent after the current one: clients build around it."""
    assert judge(pki, pki.leaf("example.com"), [pki.intermediate, expired_copy(pki)], engine).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_wrong_servername_is_refused_without_a_chain_cause(pki, engine):
    verdict = judge(pki, pki.leaf("example.com"), [pki.intermediate], engine, name="other.example")
    assert not verdict.ok and verdict.cause is None
    assert verdict.summary().startswith("names: the leaf does not cover other.example")


def test_garbage_leaf_is_a_finding_not_a_traceback(pki):
    trust = TrustStore([pki.root.cert], "test roots")
    verdict = judge_served(b"\x30\x03\x02\x01\x01", [], trust, servername="example.com",
                           now=datetime.datetime.now(datetime.timezone.utc), where="x:443")
    assert not verdict.ok and "not a parsable X.509 certificate" in verdict.summary()


def test_garbage_in_the_chain_is_a_warning(pki):
    trust = TrustStore([pki.root.cert], "test roots")
    verdict = judge_served(der(pki.leaf("example.com")), [b"junk", der(pki.intermediate)], trust,
                           servername="example.com", now=datetime.datetime.now(datetime.timezone.utc), where="x:443")
    assert verdict.ok
    assert any(f.check == "malformed" and f.severity.value == "warning" for f in verdict.findings)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dead_end_last", [True, False])
def test_dead_end_issuer_in_the_served_chain_is_refused(pki, engine, dead_end_last):
    """A second certificate named like the intermediate, whose issuer nobody has: OpenSSL takes it
    when it comes first, NSS when it comes last; either way the probe refuses and names it."""
    dead_end = make_cert("Served Intermediate", issuer_name="Nowhere CA", ca=True, key=pki.intermediate.key)
    chain = [pki.intermediate, dead_end] if dead_end_last else [dead_end, pki.intermediate]
    verdict = judge(pki, pki.leaf("example.com"), chain, engine)
    assert not verdict.ok
    [error] = [f for f in verdict.findings if f.severity.value == "error"]
    assert error.check == "path" and "does not backtrack" in error.message
    position = 2 if dead_end_last else 1
    assert error.fix == f"drop chain certificate {position} (CN=Served Intermediate, issued by CN=Nowhere CA) " \
        "from the chain", error.fix
    assert ("NSS" in error.message) is dead_end_last
