"""The verdicts issue 21 changed so the gate agrees with OpenSSL, GnuTLS and NSS (messages included)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest
from cryptography import x509

from certbot_safedeploy.verify import library, publicsuffix
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.path import validate_chain
from tests.oracle.cases import _other_name_nc, leaf_ku
from tests.pki import DAY, NOW, Issued, Pki, make_cert, new_key


@pytest.fixture(scope="module")
def pki():
    return Pki.create("Agree")


def check(leaf, pool, anchors, engine, name="example.com", now=NOW, partial=()):
    def cert(c):
        return c.cert if isinstance(c, Issued) else c
    trust = TrustStore([cert(a) for a in anchors], "test-anchors", partial_chain=[cert(p) for p in partial])
    return validate_chain(cert(leaf), [cert(c) for c in pool], trust, dns_name=name, now=now, file="cert.pem",
                          engine=engine)


def errors(result):
    return [f for f in result.findings if f.severity.value == "error"]


def warnings(result):
    return [f for f in result.findings if f.severity.value == "warning"]


@pytest.mark.parametrize("san,name,words", [
    ("*.com", "example.com", "wildcard over the top-level domain com"),
    ("*.test", "probe.test", "wildcard over the top-level domain test"),
    ("*.co.uk", "example.co.uk", "wildcard over the public suffix co.uk"),
])
def test_wildcard_over_a_public_suffix_is_refused(pki, engine, san, name, words):
    result = check(pki.leaf(san), [pki.intermediate], [pki.root], engine, name=name)
    [error] = errors(result)
    assert error.check == "names" and words in error.message and f"(its names: {san})" in error.message


def test_public_suffix_fallback_without_the_list(tmp_path):
    absent = str(tmp_path / "no-such-list.dat")
    assert publicsuffix.wildcard_problem("*.com", absent)
    assert publicsuffix.wildcard_problem("*.co.uk", absent) is None  # two labels: the fallback allows it
    assert publicsuffix.wildcard_problem("*.example.com", absent) is None


def test_public_suffix_rules():
    listed = "// ===BEGIN ICANN DOMAINS===\ncom\n*.ck\n!www.ck\n// ===END ICANN DOMAINS===\n" \
        "// ===BEGIN PRIVATE DOMAINS===\nherokuapp.com\n// ===END PRIVATE DOMAINS===\n"
    plain, wild, exceptions = publicsuffix.parse(listed)
    # the private section does not count (Chrome: EXCLUDE_PRIVATE_REGISTRIES): *.herokuapp.com stays valid
    assert plain == {"com"} and wild == {"ck"} and exceptions == {"www.ck"}


def test_underscore_names_match_exactly(pki, engine):
    result = check(pki.leaf("foo_bar.example.com"), [pki.intermediate], [pki.root], engine,
                   name="foo_bar.example.com")
    assert result.ok, [f.line() for f in result.findings]
    if engine == "library" and library.AVAILABLE:
        assert any(f.check == "engine" and "built-in engine decided" in f.message for f in result.findings)
    refused = check(pki.leaf("*.example.com"), [pki.intermediate], [pki.root], engine, name="foo_bar.example.com")
    [error] = errors(refused)
    assert "does not cover foo_bar.example.com (its names: *.example.com)" in error.message


def test_anchor_that_is_not_self_signed(pki, engine):
    result = check(pki.leaf("example.com"), [], [pki.intermediate], engine)
    assert not result.ok
    assert any(f.check == "anchor" and "CN=Agree Intermediate" in f.message and "is not self-signed" in f.message
               and "--partial-chain-anchor" in f.fix for f in errors(result)), [f.line() for f in result.findings]
    on_purpose = check(pki.leaf("example.com"), [], [], engine, partial=[pki.intermediate])
    assert on_purpose.ok, [f.line() for f in on_purpose.findings]


def test_cross_signed_anchor_serves_as_an_intermediate(pki, engine):
    """A trusted cross-sign is not an anchor, but it may still lead to a self-signed one."""
    old = make_cert("Agree Old Root", ca=True, end=NOW + 3000 * DAY)
    cross = make_cert("Agree Root", issuer=old, ca=True, key=pki.root.key)
    assert check(pki.leaf("example.com"), [pki.intermediate], [cross, old], engine).ok
    assert not check(pki.leaf("example.com"), [pki.intermediate], [cross], engine).ok


def test_the_not_after_second_is_expired(pki, engine):
    end = (NOW + 10 * DAY).replace(microsecond=0)
    leaf = pki.leaf("example.com", end=end)
    [error] = errors(check(leaf, [pki.intermediate], [pki.root], engine, now=end))
    assert error.check == "validity" and "expired" in error.message
    assert check(leaf, [pki.intermediate], [pki.root], engine, now=end - datetime.timedelta(seconds=1)).ok


def test_first_candidate_issuer_with_constraints_is_refused(pki, engine):
    constrained = make_cert("Agree Intermediate", issuer=pki.root, ca=True, key=pki.intermediate.key, extensions=[
        (x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=[x509.DNSName("example.com")]), True)])
    result = check(pki.leaf("example.com"), [constrained, pki.intermediate], [pki.root], engine)
    [error] = errors(result)
    assert error.check == "path" and "OpenSSL and GnuTLS take the first" in error.message
    assert error.fix.startswith("drop chain certificate 1 (CN=Agree Intermediate")
    assert check(pki.leaf("example.com"), [pki.intermediate], [pki.root], engine).ok


def test_rsa_leaf_without_key_encipherment_warns_naming_nss(pki, engine):
    leaf = pki.leaf("example.com", key_kind="rsa", extensions=[(leaf_ku(key_encipherment=False), True)])
    result = check(leaf, [pki.intermediate], [pki.root], engine)
    assert result.ok
    [warning] = warnings(result)
    assert warning.check == "key-usage" and "SEC_ERROR_INADEQUATE_KEY_USAGE" in warning.message
    assert "Firefox, Chrome, OpenSSL and GnuTLS accept it" in warning.message
    ec_leaf = pki.leaf("example.com", extensions=[(leaf_ku(key_encipherment=False), True)])
    assert not warnings(check(ec_leaf, [pki.intermediate], [pki.root], engine))


def test_other_name_constraint_warns_naming_gnutls(pki, engine):
    ca = make_cert("Agree ON CA", issuer=pki.root, ca=True, extensions=[(_other_name_nc(), True)])
    result = check(make_cert("example.com", issuer=ca, sans=["example.com"]), [ca], [pki.root], engine)
    assert result.ok, [f.line() for f in result.findings]
    assert any("GnuTLS refuses" in w.message for w in warnings(result))


@pytest.mark.parametrize("subtree,san,ok", [(".example.com", "www.example.com", True),
                                            (".example.com", "example.com", False)])
def test_leading_period_dns_constraint(pki, engine, subtree, san, ok):
    ca = make_cert("Agree Dot CA", issuer=pki.root, ca=True, extensions=[(x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(subtree)], excluded_subtrees=None), True)])
    result = check(make_cert(san, issuer=ca, sans=[san]), [ca], [pki.root], engine, name=san)
    assert result.ok is ok, [f.line() for f in result.findings]


def test_self_issued_intermediate_counts_for_path_length(engine):
    root0 = make_cert("Agree PL Root", ca=True, end=NOW + 3650 * DAY, extensions=[
        (x509.BasicConstraints(ca=True, path_length=0), True)])
    self_issued = make_cert("Agree PL Root", issuer=root0, ca=True, key=new_key())
    result = check(make_cert("example.com", issuer=self_issued, sans=["example.com"]), [self_issued], [root0],
                   engine)
    assert not result.ok


def test_cli_partial_chain_anchor(tmp_path, pki):
    leaf = pki.leaf("example.com")
    (tmp_path / "cert.pem").write_bytes(leaf.pem)
    (tmp_path / "inter.pem").write_bytes(pki.intermediate.pem)
    base = [sys.executable, "-m", "certbot_safedeploy", "verify", "--cert", str(tmp_path / "cert.pem"),
            "--domain", "example.com"]
    env = dict(os.environ)
    plain = subprocess.run([*base, "--trust-anchor", str(tmp_path / "inter.pem")], capture_output=True,
                           text=True, env=env, timeout=60)
    assert plain.returncode == 1 and "is not self-signed" in plain.stdout, plain.stdout
    partial = subprocess.run([*base, "--partial-chain-anchor", str(tmp_path / "inter.pem")], capture_output=True,
                             text=True, env=env, timeout=60)
    assert partial.returncode == 0, partial.stdout + partial.stderr
