"""Hostile input never raises: garbage extensions, flipped bytes, truncated DER, on both engines."""

import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.material.lineage import read_lineage
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.lineagecheck import verify_lineage
from certbot_safedeploy.verify.path import validate_chain
from tests.pki import NOW, Pki, with_raw_extension, write_lineage

# id-ce extensions a client parses (BC, KU, EKU, SAN, NC, AKI, SKI): random and truncated bodies
OIDS = ["551d13", "551d0f", "551d25", "551d11", "551d1e", "551d23", "551d0e"]


@pytest.fixture(scope="module")
def pki():
    return Pki.create("Fuzz")


def bodies(rng):
    yield b""
    yield b"\x30"
    yield b"\x30\x80\x00\x00"
    yield b"\x30\x84\xff\xff\xff\xff"
    for _ in range(6):
        yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 24)))
    yield b"\x30\x06\x82\x04\xff\xfe\x00\x01"  # a dNSName of non-ASCII bytes


def test_garbage_extension_values(pki, engine):
    rng = random.Random(9)
    trust = TrustStore([pki.root.cert], "fuzz")
    seen = 0
    for oid in OIDS:
        for body in bodies(rng):
            for critical in (False, True):
                leaf = with_raw_extension("example.com", pki.intermediate, oid, body, critical=critical,
                                          sans=() if oid == "551d11" else None)
                result = validate_chain(leaf, [pki.intermediate.cert], trust, dns_name="example.com",
                                        now=NOW, file="cert.pem", engine=engine)
                assert result.ok or result.findings[0].severity.value == "error"
                seen += 1
    assert seen == len(OIDS) * 22


def test_flipped_and_truncated_der_in_a_lineage(tmp_path, pki, engine):
    rng = random.Random(5)
    trust = TrustStore([pki.root.cert], "fuzz")
    der = pki.leaf("example.com").cert.public_bytes(serialization.Encoding.DER)
    parsed = 0
    for i in range(60):
        data = bytearray(der)
        if i % 3 == 0:
            data = data[: rng.randrange(10, len(data))]
        else:
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            cert = x509.load_der_x509_certificate(bytes(data))
        except ValueError:
            continue
        parsed += 1
        result = validate_chain(cert, [pki.intermediate.cert], trust, dns_name="example.com", now=NOW,
                                file="cert.pem", engine=engine)
        assert result.findings
        from tests.pki import Issued

        live = write_lineage(str(tmp_path / str(i)), "x", Issued(cert, pki.leaf("x").key), [pki.intermediate])
        report, _ = verify_lineage(read_lineage(live), trust=trust, engine=engine)
        assert report.errors  # at least the key cannot match
    assert parsed > 10
