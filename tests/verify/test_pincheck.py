import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.verify.pincheck import (
    PinFormatError, check_pins, normalize_pin, pin_of_certificate,
)
from certbot_safedeploy.verify.report import Severity
from tests.pki import Pki, new_key


def test_pin_is_sha256_of_spki():
    pki = Pki.create()
    leaf = pki.leaf("a.example").cert
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pin_of_certificate(leaf) == "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_normalize_accepts_rfc7469_form_and_rejects_garbage():
    pin = "sha256/" + base64.b64encode(b"x" * 32).decode()
    assert normalize_pin('pin-sha256="' + pin[7:] + '"') == pin
    for bad in ("sha1/abc", "sha256/!!!", "sha256/" + base64.b64encode(b"x" * 20).decode()):
        with pytest.raises(PinFormatError):
            normalize_pin(bad)


def test_pin_set_must_match_chain_and_have_backup():
    pki = Pki.create()
    leaf = pki.leaf("a.example").cert
    chain = [leaf, pki.intermediate.cert]
    backup = "sha256/" + base64.b64encode(hashlib.sha256(b"backup").digest()).decode()
    ok = check_pins(chain, [pin_of_certificate(leaf), backup], "f")
    assert [f.severity for f in ok] == [Severity.OK]
    no_backup = check_pins(chain, [pin_of_certificate(pki.intermediate.cert)], "f")
    assert [f.severity for f in no_backup] == [Severity.OK, Severity.WARNING]
    assert "backup" in no_backup[1].message
    other = pki.leaf("a.example", key=new_key())
    bad = check_pins([other.cert, pki.intermediate.cert], [pin_of_certificate(leaf), backup], "f")
    assert bad[0].severity is Severity.ERROR and "no key in the chain" in bad[0].message
    assert check_pins(chain, [], "f") == []
