"""verify_lineage over real certbot-shaped lineages, every check and each way it fails."""

import datetime

import pytest
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.material.lineage import read_lineage
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.lineagecheck import verify_lineage
from certbot_safedeploy.verify.pincheck import pin_of_certificate
from tests.pki import DAY, NOW, Pki, make_cert, new_key, write_lineage


@pytest.fixture(scope="module")
def pki():
    return Pki.create()


@pytest.fixture
def trust(pki):
    return TrustStore([pki.root.cert], "test-root")


def run(tmp_path, pki, trust, leaf=None, chain=None, *, domains=(), pins=(), overrides=None, now=None):
    leaf = leaf or pki.leaf("example.com", "*.example.com")
    chain = chain if chain is not None else [pki.intermediate]
    live = write_lineage(str(tmp_path), "example.com", leaf, chain, overrides=overrides)
    return verify_lineage(read_lineage(live), trust=trust, domains=domains, pin_set=pins, now=now)


def errors(report):
    return [(f.file.rsplit("/", 1)[-1], f.check, f.message) for f in report.errors]


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_good_lineage_passes(tmp_path, pki, trust, kind):
    leaf = pki.leaf("example.com", key_kind=kind)
    report, material = run(tmp_path, pki, trust, leaf, domains=["example.com"])
    assert report.ok, errors(report)
    assert material is not None
    assert material.fullchain_pem == leaf.pem + pki.intermediate.pem
    assert b"PRIVATE KEY" in material.part("privkey")


def test_chain_ending_in_root_passes(tmp_path, pki, trust):
    report, _ = run(tmp_path, pki, trust, chain=[pki.intermediate, pki.root])
    assert report.ok, errors(report)


@pytest.mark.parametrize("name,data,words", [
    ("cert.pem", b"", "empty"),
    ("privkey.pem", b"", "empty"),
    ("chain.pem", b"<html><body>404</body></html>", "HTML"),
    ("cert.pem", b"\x30\x82\x03", "DER"),
])
def test_bad_files_are_refused_by_name(tmp_path, pki, trust, name, data, words):
    report, material = run(tmp_path, pki, trust, overrides={name: data})
    assert material is None
    assert any(f == name and words in m for f, _, m in errors(report)), errors(report)


def test_missing_file_and_broken_symlink(tmp_path, pki, trust):
    live = write_lineage(str(tmp_path), "x", pki.leaf("x.example"), [pki.intermediate])
    (tmp_path / "archive" / "x" / "chain1.pem").unlink()
    (tmp_path / "live" / "x" / "cert.pem").unlink()
    report, _ = verify_lineage(read_lineage(live), trust=trust)
    msgs = errors(report)
    assert ("chain.pem", "file", "broken symlink to ../../archive/x/chain1.pem") in msgs
    assert ("cert.pem", "file", "file is missing") in msgs


def test_key_mismatch(tmp_path, pki, trust):
    other = pki.leaf("example.com")
    report, _ = run(tmp_path, pki, trust, overrides={"privkey.pem": other.key_pem})
    assert ("privkey.pem", "key", "the private key does not match the certificate's public key") in errors(report)


def test_fullchain_must_be_cert_plus_chain(tmp_path, pki, trust):
    leaf = pki.leaf("example.com")
    wrong = leaf.pem + pki.intermediate.pem + pki.root.pem
    report, _ = run(tmp_path, pki, trust, leaf, overrides={"fullchain.pem": wrong})
    assert any(c == "fullchain" for _, c, _ in errors(report))


def test_wrong_order(tmp_path, pki, trust):
    report, _ = run(tmp_path, pki, trust, chain=[pki.root, pki.intermediate])
    assert any("wrong order" in m for _, _, m in errors(report)), errors(report)


def test_missing_intermediate(tmp_path, pki, trust):
    report, _ = run(tmp_path, pki, trust, chain=[pki.root])
    assert any(c == "chain" and "foreign or missing" in m for _, c, m in errors(report))


def test_foreign_intermediate(tmp_path, pki, trust):
    other = Pki.create("Other")
    report, _ = run(tmp_path, pki, trust, chain=[other.intermediate])
    assert any("foreign or missing" in m for _, _, m in errors(report))


def test_forged_intermediate(tmp_path, pki, trust):
    # same subject name as the real intermediate, different key, signed by an impostor root
    impostor_root = make_cert("Test Root", ca=True)
    forged = make_cert("Test Intermediate", issuer=impostor_root, ca=True)
    leaf = make_cert("example.com", issuer=forged, sans=["example.com"])
    report, _ = run(tmp_path, pki, trust, leaf, chain=[forged])
    assert any(c == "trust" for _, c, _ in errors(report)), errors(report)
    # the real intermediate in the file, but the leaf was signed by the forged key
    report, _ = run(tmp_path, pki, trust, leaf, chain=[pki.intermediate])
    assert any("does not verify" in m for _, _, m in errors(report)), errors(report)


def test_untrusted_root(tmp_path, pki):
    report, _ = run(tmp_path, pki, TrustStore([Pki.create("Else").root.cert], "else"))
    assert any(c == "trust" and "trust anchor in else" in m for _, c, m in errors(report))
    report, _ = run(tmp_path, pki, TrustStore([Pki.create("Else").root.cert], "else"),
                    chain=[pki.intermediate, pki.root])
    assert any("self-signed" in m for _, _, m in errors(report))


def test_validity_windows(tmp_path, pki, trust):
    expired = pki.leaf("example.com", start=NOW - 100 * DAY, end=NOW - DAY)
    report, _ = run(tmp_path, pki, trust, expired)
    assert any(c == "validity" and "expired" in m for _, c, m in errors(report))
    future = pki.leaf("example.com", start=NOW + DAY, end=NOW + 90 * DAY)
    report, _ = run(tmp_path, pki, trust, future)
    assert any("not valid until" in m for _, _, m in errors(report))
    report, _ = run(tmp_path, pki, trust, now=NOW + 2000 * DAY)
    assert any("intermediate CN=Test Intermediate expired" in m for _, _, m in errors(report))


def test_intermediate_expiring_before_leaf_warns(tmp_path, pki, trust):
    short = make_cert("Short Intermediate", issuer=pki.root, ca=True, end=NOW + 10 * DAY)
    leaf = make_cert("example.com", issuer=short, sans=["example.com"], end=NOW + 90 * DAY)
    report, _ = run(tmp_path, pki, trust, leaf, chain=[short])
    assert report.ok
    assert any("before the leaf" in w.message for w in report.warnings)


def test_names_and_pins(tmp_path, pki, trust):
    leaf = pki.leaf("example.com", "*.example.com")
    report, _ = run(tmp_path, pki, trust, leaf, domains=["www.example.com", "a.b.example.com"])
    assert any(c == "names" and "a.b.example.com" in m for _, c, m in errors(report))
    report, _ = run(tmp_path, pki, trust, leaf, pins=[pin_of_certificate(pki.root.cert)])
    assert any(c == "pins" for _, c, _ in errors(report))
    report, _ = run(tmp_path, pki, trust, leaf, pins=[pin_of_certificate(pki.intermediate.cert)])
    assert report.ok and any("backup" in w.message for w in report.warnings)


def test_every_error_names_file_check_and_fix(tmp_path, pki, trust):
    report, _ = run(tmp_path, pki, trust, chain=[pki.root], overrides={"privkey.pem": pki.leaf("x").key_pem})
    assert report.errors
    for finding in report.errors:
        assert finding.file.startswith(str(tmp_path)) and finding.check and finding.fix


def _long_chain(cross_expired: bool = True):
    """leaf <- R3 <- ISRG Root X1 (self-signed; and cross-signed by DST Root CA X3, expired)."""
    dst = make_cert("DST Root CA X3", ca=True, start=NOW - 3000 * DAY, end=NOW - 10 * DAY)
    x1_key = new_key()
    x1 = make_cert("ISRG Root X1", ca=True, key=x1_key, end=NOW + 3000 * DAY)
    x1_cross = make_cert("ISRG Root X1", issuer=dst, ca=True, key=x1_key, start=NOW - 900 * DAY,
                         end=NOW - DAY if cross_expired else NOW + 200 * DAY)
    r3 = make_cert("R3", issuer=x1, ca=True)
    return dst, x1, x1_cross, r3


@pytest.mark.parametrize("cross_expired", [True, False])
def test_long_chain_with_cross_sign_passes_with_a_warning(tmp_path, engine, cross_expired):
    """The expired cross-sign at the end, the root trusted directly, DST absent from the store."""
    dst, x1, x1_cross, r3 = _long_chain(cross_expired)
    leaf = make_cert("example.com", issuer=r3, sans=["example.com"])
    live = write_lineage(str(tmp_path), "le", leaf, [r3, x1_cross])
    report, material = verify_lineage(read_lineage(live), trust=TrustStore([x1.cert], "isrg"),
                                      domains=["example.com"], engine=engine)
    assert report.ok and material is not None, errors(report)
    [warning] = [w for w in report.warnings if w.check == "chain"]
    assert "chain[2]" in warning.message and "ISRG Root X1" in warning.message
    assert "cross-sign of a trust anchor" in warning.message and "DST Root CA X3" in warning.message
    assert ("expired at" if cross_expired else "valid until") in warning.message
    assert material.fullchain_pem.count(b"BEGIN CERTIFICATE") == 3  # installed as certbot saved it


def test_cross_signing_root_alone_in_the_store_is_refused(tmp_path, engine):
    dst, x1, x1_cross, r3 = _long_chain()
    leaf = make_cert("example.com", issuer=r3, sans=["example.com"])
    live = write_lineage(str(tmp_path), "le", leaf, [r3, x1_cross])
    report, _ = verify_lineage(read_lineage(live), trust=TrustStore([dst.cert], "dst"), engine=engine)
    assert any(c == "validity" and "expired" in m for _, c, m in errors(report)), errors(report)


def test_self_signed_root_sent_by_the_ca_passes_with_a_warning(tmp_path, pki, trust, engine):
    leaf = pki.leaf("example.com")
    live = write_lineage(str(tmp_path), "x", leaf, [pki.intermediate, pki.root])
    report, material = verify_lineage(read_lineage(live), trust=trust, engine=engine)
    assert report.ok and material is not None, errors(report)
    assert any("chain[2]" in w.message and "the trust anchor itself" in w.message for w in report.warnings)


def test_wrong_order_is_refused_on_both_engines(tmp_path, pki, trust, engine):
    live = write_lineage(str(tmp_path), "x", pki.leaf("example.com"), [pki.root, pki.intermediate])
    report, _ = verify_lineage(read_lineage(live), trust=trust, engine=engine)
    assert any("wrong order" in m for _, _, m in errors(report)), errors(report)


def test_client_checks_apply_to_lineages(tmp_path, pki, trust, engine):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    leaf = pki.leaf("example.com", extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)])
    live = write_lineage(str(tmp_path), "x", leaf, [pki.intermediate])
    report, material = verify_lineage(read_lineage(live), trust=trust, engine=engine)
    assert material is None and any(c == "eku" for _, c, _ in errors(report))
    assert report.engine


@pytest.mark.parametrize("oid,body", [("551d11", b"\x30\x03\x82\x05a"), ("551d11", b"\x30\x00"),
                                      ("551d13", b"\x30\x03\x01\x01"), ("551d0f", b"\x03")])
def test_malformed_extensions_in_a_lineage_are_refusals(tmp_path, pki, trust, engine, oid, body):
    """The issue's crash: a malformed subjectAltName raised ValueError from names.py."""
    from tests.pki import Issued, with_raw_extension

    key = new_key()
    cert = with_raw_extension("example.com", pki.intermediate, oid, body, sans=() if body != b"\x30\x00" else None)
    leaf = Issued(cert, key)
    live = write_lineage(str(tmp_path), "x", leaf, [pki.intermediate])
    report, material = verify_lineage(read_lineage(live), trust=trust, domains=["example.com"], engine=engine)
    assert material is None and report.errors
    assert any(c in ("malformed", "profile") for _, c, _ in errors(report)), errors(report)
