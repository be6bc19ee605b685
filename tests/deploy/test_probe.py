"""The probe as a client: the new leaf AND a chain that validates, against a real TLS server."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.config.target_section import Probe
from certbot_safedeploy.deploy.pipeline import client_judge
from certbot_safedeploy.deploy.service import probe_until
from tests.pki import Pki

from .tlsserver import TlsServer


def _probe(tmp_path, served_pem: bytes, key_pem: bytes, expected: bytes, pki: Pki, timeout: float = 5):
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(pki.root.pem)
    server = TlsServer(tmp_path, served_pem, key_pem)
    probe = Probe("127.0.0.1", server.port, "example.com", timeout)
    try:
        started = time.monotonic()
        result = probe_until(probe, expected, client_judge([str(anchors)], probe))
        return result, time.monotonic() - started, probe
    finally:
        server.close()


def test_full_chain_passes(tmp_path):
    pki = Pki.create("Probe")
    leaf = pki.leaf("example.com")
    result, _, probe = _probe(tmp_path, leaf.pem + pki.intermediate.pem, leaf.key_pem,
                              leaf.cert.public_bytes(Encoding.DER), pki)
    assert result.ok, result.detail
    assert result.detail == f"{probe} serves the expected certificate with a chain a client validates"


def test_leaf_without_intermediate_fails_at_once_naming_the_cause(tmp_path):
    pki = Pki.create("Probe")
    leaf = pki.leaf("example.com")
    result, took, probe = _probe(tmp_path, leaf.pem, leaf.key_pem, leaf.cert.public_bytes(Encoding.DER), pki,
                                 timeout=30)
    assert not result.ok
    assert result.detail.startswith(f"{probe}: the new certificate is served, but a client rejects it: the "
                                    "service sends no intermediate: does it read cert.pem instead of fullchain.pem?")
    assert took < 5  # a chain problem is final: no waiting for the timeout


def test_old_leaf_is_still_another_certificate(tmp_path):
    pki = Pki.create("Probe")
    old, new = pki.leaf("example.com"), pki.leaf("example.com")
    result, _, _ = _probe(tmp_path, old.pem + pki.intermediate.pem, old.key_pem,
                          new.cert.public_bytes(Encoding.DER), pki, timeout=0.5)
    assert not result.ok and "still serves another certificate" in result.detail


def test_wrong_chain_and_expired_intermediate_fail_naming_the_cause(tmp_path):
    from tests.pki import DAY, NOW, make_cert

    pki = Pki.create("Probe")
    leaf = pki.leaf("example.com")
    foreign = Pki.create("Foreign").intermediate
    expired = make_cert("Probe Intermediate", issuer=pki.root, ca=True, key=pki.intermediate.key,
                        start=NOW - 400 * DAY, end=NOW - DAY)
    expected = leaf.cert.public_bytes(Encoding.DER)
    for sent, cause in ((foreign, "the service sends the wrong chain: CN=Foreign Intermediate did not issue"),
                        (expired, "the service sends an expired intermediate (CN=Probe Intermediate, expired ")):
        directory = tmp_path / cause[:20].replace(" ", "-")
        directory.mkdir()
        result, _, _ = _probe(directory, leaf.pem + sent.pem, leaf.key_pem, expected, pki)
        assert not result.ok and cause in result.detail, result.detail
