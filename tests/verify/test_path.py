"""validate_chain: every client-grade check, accepted and refused, on both engines."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from certbot_safedeploy.verify import library
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.path import BUILTIN, validate_chain
from tests.pki import (ALG_MD5_RSA, ALG_SHA1_ECDSA, DAY, NOW, Issued, Pki, make_cert, new_key, resign,
                       with_raw_extension)

CA_KU = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                      data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                      encipher_only=False, decipher_only=False)


def ku(**flags):
    base = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False)
    base.update(flags)
    return x509.KeyUsage(**base)


@pytest.fixture(scope="module")
def pki():
    return Pki.create()


def check(leaf, chain, anchors, engine, name="example.com", now=None):
    result = validate_chain(leaf.cert if isinstance(leaf, Issued) else leaf,
                            [c.cert if isinstance(c, Issued) else c for c in chain],
                            TrustStore([a.cert for a in anchors], "test-anchors"),
                            dns_name=name, now=now or NOW, file="cert.pem", engine=engine)
    assert result.engine == (BUILTIN if engine == "builtin" else library.NAME)
    for finding in result.findings:  # one line each: file, check, and a fix for every error
        assert "\n" not in finding.line() and finding.file == "cert.pem" and finding.check
        assert finding.severity.value != "error" or finding.fix
    return result


def refused(result, check_name, *words):
    assert not result.ok and result.path is None
    hits = [f for f in result.findings if f.check == check_name and all(w in f.message for w in words)]
    assert hits, [f.line() for f in result.findings]
    assert not any("forged" in f.message for f in result.findings if check_name.startswith("weak"))


def test_good_chain_and_path(pki, engine):
    leaf = pki.leaf("example.com", "www.example.com")
    result = check(leaf, [pki.intermediate], [pki.root], engine, name="www.example.com")
    assert result.ok and result.path == (leaf.cert, pki.intermediate.cert, pki.root.cert)
    assert "decided by" in result.findings[0].message


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_leaf_key_kinds(pki, engine, kind):
    assert check(pki.leaf("example.com", key_kind=kind), [pki.intermediate], [pki.root], engine).ok


def test_wrong_name_and_missing_san(pki, engine):
    refused(check(pki.leaf("example.com"), [pki.intermediate], [pki.root], engine, name="other.org"), "names")
    no_san = make_cert("example.com", issuer=pki.intermediate)
    refused(check(no_san, [pki.intermediate], [pki.root], engine), "names")


@pytest.mark.parametrize("usages,ok", [
    (None, True), ([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH], True),
    ([ExtendedKeyUsageOID.CLIENT_AUTH], False), ([ExtendedKeyUsageOID.CODE_SIGNING], False)])
def test_leaf_eku(pki, engine, usages, ok):
    extra = [] if usages is None else [(x509.ExtendedKeyUsage(usages), False)]
    leaf = pki.leaf("example.com", extensions=extra, omit=[x509.ExtendedKeyUsage] if usages is None else [])
    result = check(leaf, [pki.intermediate], [pki.root], engine)
    if ok:
        assert result.ok, [f.line() for f in result.findings]
    else:
        refused(result, "eku", "serverAuth")


def test_intermediate_eku_without_server_auth(pki, engine):
    inter = make_cert("Mail CA", issuer=pki.root, ca=True,
                      extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)])
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"])
    refused(check(leaf, [inter], [pki.root], engine), "eku")


def test_leaf_must_not_be_a_ca(pki, engine):
    leaf = make_cert("example.com", issuer=pki.intermediate, sans=["example.com"], ca=True)
    refused(check(leaf, [pki.intermediate], [pki.root], engine), "leaf-ca", "CA")
    signer = pki.leaf("example.com", extensions=[(ku(digital_signature=True, key_cert_sign=True), True)])
    refused(check(signer, [pki.intermediate], [pki.root], engine), "leaf-ca", "keyCertSign")


def test_issuer_must_be_a_ca_with_key_cert_sign(pki, engine):
    not_ca = make_cert("Not A CA", issuer=pki.root, ca=False, extensions=[(CA_KU, True)])
    leaf = make_cert("example.com", issuer=not_ca, sans=["example.com"])
    refused(check(leaf, [not_ca], [pki.root], engine), "ca", "not a CA")
    no_sign = make_cert("No Sign CA", issuer=pki.root, ca=True, extensions=[(ku(crl_sign=True), True)])
    leaf = make_cert("example.com", issuer=no_sign, sans=["example.com"])
    refused(check(leaf, [no_sign], [pki.root], engine), "key-usage", "keyCertSign")
    no_ku = make_cert("No KU CA", issuer=pki.root, ca=True, omit=[x509.KeyUsage])
    leaf = make_cert("example.com", issuer=no_ku, sans=["example.com"])
    refused(check(leaf, [no_ku], [pki.root], engine), "key-usage")


@pytest.mark.parametrize("limit,ok", [(0, False), (1, False), (2, True), (None, True)])
def test_path_length(engine, limit, ok):
    root = make_cert("PL Root", ca=True, end=NOW + 3650 * DAY,
                     extensions=[(x509.BasicConstraints(ca=True, path_length=limit), True)])
    upper = make_cert("PL Upper", issuer=root, ca=True)
    lower = make_cert("PL Lower", issuer=upper, ca=True)
    leaf = make_cert("example.com", issuer=lower, sans=["example.com"])
    result = check(leaf, [lower, upper], [root], engine)
    if ok:
        assert result.ok, [f.line() for f in result.findings]
    else:
        refused(result, "path-length")


def _constrained(permitted=None, excluded=None):
    root = make_cert("NC Root", ca=True, end=NOW + 3650 * DAY)
    nc = x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)
    inter = make_cert("NC Intermediate", issuer=root, ca=True, extensions=[(nc, True)])
    return root, inter


PERMIT, EXCLUDE = {"permitted": [x509.DNSName("example.com")]}, {"excluded": [x509.DNSName("secret.example.com")]}


@pytest.mark.parametrize("subtrees,name,words", [
    (PERMIT, "example.com", None), (PERMIT, "a.example.com", None),
    (PERMIT, "example.org", "outside"), (PERMIT, "badexample.com", "outside"),
    (EXCLUDE, "www.example.com", None), (EXCLUDE, "secret.example.com", "excluded"),
    (EXCLUDE, "x.secret.example.com", "excluded")])
def test_name_constraints_dns(engine, subtrees, name, words):
    root, inter = _constrained(**subtrees)
    leaf = make_cert(name, issuer=inter, sans=[name])
    result = check(leaf, [inter], [root], engine, name=name)
    if words is None:
        assert result.ok, [f.line() for f in result.findings]
    else:
        refused(result, "name-constraints", name, words)


@pytest.mark.parametrize("address,ok", [("10.1.2.3", True), ("192.168.1.1", False)])
def test_name_constraints_ip(engine, address, ok):
    root, inter = _constrained(permitted=[x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))])
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))])
    leaf = make_cert("host", issuer=inter, extensions=[(san, False)])
    result = check(leaf, [inter], [root], engine, name=address)
    if ok:
        assert result.ok, [f.line() for f in result.findings]
    else:
        refused(result, "name-constraints", address)


@pytest.mark.parametrize("where", ["leaf", "intermediate", "root"])
def test_unknown_critical_extension(engine, where):
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    root = make_cert("UC Root", ca=True, end=NOW + 3650 * DAY,
                     extensions=[(odd, True)] if where == "root" else [])
    inter = make_cert("UC Intermediate", issuer=root, ca=True,
                      extensions=[(odd, True)] if where == "intermediate" else [])
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"],
                     extensions=[(odd, True)] if where == "leaf" else [])
    refused(check(leaf, [inter], [root], engine), "critical-extension", "1.3.6.1.4.1.55555.1")
    quiet = make_cert("example.com", issuer=inter, sans=["example.com"], extensions=[(odd, False)])
    if where == "leaf":
        assert check(quiet, [inter], [root], engine).ok


@pytest.mark.parametrize("key,words", [
    (lambda: new_key("rsa") if False else __import__("cryptography.hazmat.primitives.asymmetric.rsa",
                                                       fromlist=["rsa"]).generate_private_key(65537, 1024),
     ["RSA key of 1024 bits"]),
    (lambda: ec.generate_private_key(ec.SECP192R1()), ["secp192r1"]),
    (lambda: dsa.generate_private_key(2048), ["DSA"]),
])
def test_weak_leaf_keys(pki, engine, key, words):
    leaf = make_cert("example.com", issuer=pki.intermediate, sans=["example.com"], key=key())
    refused(check(leaf, [pki.intermediate], [pki.root], engine), "weak-key", *words)


def test_weak_intermediate_key(pki, engine):
    from cryptography.hazmat.primitives.asymmetric import rsa

    inter = make_cert("Weak CA", issuer=pki.root, ca=True, key=rsa.generate_private_key(65537, 1024))
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"])
    refused(check(leaf, [inter], [pki.root], engine), "weak-key", "1024")


def test_weak_signatures_are_named_not_forged(pki, engine):
    leaf = pki.leaf("example.com")
    sha1 = resign(leaf.cert, pki.intermediate.key, ALG_SHA1_ECDSA)
    refused(check(sha1, [pki.intermediate], [pki.root], engine), "weak-signature", "SHA-1")
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_ca = make_cert("RSA CA", issuer=pki.root, ca=True, key=rsa.generate_private_key(65537, 2048))
    md5 = resign(make_cert("example.com", issuer=rsa_ca, sans=["example.com"]).cert, rsa_ca.key, ALG_MD5_RSA)
    refused(check(md5, [rsa_ca], [pki.root], engine), "weak-signature", "MD5")


def test_expired_and_non_ca_anchor(pki, engine):
    old_root = make_cert("Old Root", ca=True, start=NOW - 900 * DAY, end=NOW - DAY)
    inter = make_cert("Old Intermediate", issuer=old_root, ca=True)
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"])
    refused(check(leaf, [inter], [old_root], engine), "anchor", "expired")
    plain = make_cert("Plain Root", ca=False, extensions=[(CA_KU, True)])
    inter = make_cert("Under Plain", issuer=plain, ca=True)
    leaf = make_cert("example.com", issuer=inter, sans=["example.com"])
    refused(check(leaf, [inter], [plain], engine), "anchor", "not a CA")


def test_validity_of_leaf_and_intermediate(pki, engine):
    expired = pki.leaf("example.com", start=NOW - 100 * DAY, end=NOW - DAY)
    refused(check(expired, [pki.intermediate], [pki.root], engine), "validity", "expired")
    future = pki.leaf("example.com", start=NOW + DAY, end=NOW + 90 * DAY)
    refused(check(future, [pki.intermediate], [pki.root], engine), "validity", "not valid until")


def test_untrusted_missing_and_forged(pki, engine):
    other = Pki.create("Other")
    refused(check(pki.leaf("example.com"), [pki.intermediate], [other.root], engine), "trust")
    refused(check(pki.leaf("example.com"), [], [pki.root], engine), "trust", "missing intermediate")
    impostor = make_cert("Test Intermediate", issuer=Pki.create("Evil").root, ca=True)
    forged = make_cert("example.com", issuer=impostor, sans=["example.com"])
    result = check(forged, [pki.intermediate], [pki.root], engine)
    assert not result.ok and any("does not verify" in f.message for f in result.findings)


def test_pool_order_and_surplus_do_not_matter(pki, engine):
    other = Pki.create("Other")
    leaf = pki.leaf("example.com")
    result = check(leaf, [other.intermediate, pki.root, pki.intermediate], [pki.root], engine)
    assert result.ok and result.path == (leaf.cert, pki.intermediate.cert, pki.root.cert)


def test_malformed_and_duplicate_extensions_are_refusals(pki, engine):
    duplicate = with_raw_extension("example.com", pki.intermediate, "551d11", b"\x30\x00")
    refused(check(duplicate, [pki.intermediate], [pki.root], engine), "malformed", "duplicate")
    broken_san = with_raw_extension("example.com", pki.intermediate, "551d11", b"\x30\x03\x82\x05a", sans=())
    refused(check(broken_san, [pki.intermediate], [pki.root], engine), "malformed")
    broken_bc = with_raw_extension("example.com", pki.intermediate, "551d13", b"\x30\x03\x01\x01")
    result = check(broken_bc, [pki.intermediate], [pki.root], engine)
    assert not result.ok


def test_cross_sign_subject_and_key_of_an_anchor(engine):
    """Let's Encrypt's long chain: the store trusts ISRG Root X1; the chain ends in its expired cross-sign."""
    dst = make_cert("DST Root CA X3", ca=True, start=NOW - 3000 * DAY, end=NOW - 10 * DAY)
    x1_key = new_key()
    x1 = make_cert("ISRG Root X1", ca=True, key=x1_key, end=NOW + 3000 * DAY)
    x1_cross = make_cert("ISRG Root X1", issuer=dst, ca=True, key=x1_key, start=NOW - 900 * DAY,
                         end=NOW - DAY)
    r3 = make_cert("R3", issuer=x1, ca=True)
    leaf = make_cert("example.com", issuer=r3, sans=["example.com"])
    result = check(leaf, [r3, x1_cross], [x1], engine)
    assert result.ok and result.path == (leaf.cert, r3.cert, x1.cert)
    # with only DST trusted (an old client) the expired cross-sign is the path, refused
    refused(check(leaf, [r3, x1_cross], [dst], engine), "validity", "ISRG Root X1 expired")


@pytest.mark.parametrize("text,check_name", [
    ("validation failed: Other(\"EE keyUsage must not assert keyCertSign\")", "leaf-ca"),
    ("validation failed: Other(\"required EKU not found\")", "eku"),
    ("candidates exhausted: path length constraint violated", "path-length"),
    ("validation failed: Other(\"cert is not valid at validation time\")", "validity"),
    ("candidates exhausted: Forbidden signature algorithm: ...", "signature-algorithm"),
    ("candidates exhausted: RSA key is too weak", "weak-key"),
    ("validation failed: Other(\"Certificate is missing required extension\")", "profile"),
    ("candidates exhausted: all candidates exhausted with no interior errors", "trust"),
])
def test_library_refusals_get_our_check_names(text, check_name):
    finding = library.translate(text, "cert.pem")
    assert finding.check == check_name and finding.fix and finding.file == "cert.pem"
    assert "\n" not in finding.line()
