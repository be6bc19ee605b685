import base64
import subprocess

import pytest

from certbot_safedeploy.challenges.tsigkey import parse_key_file
from certbot_safedeploy.errors import ChallengeError

SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_parses_real_tsig_keygen_output():
    text = subprocess.run(["tsig-keygen", "-a", "hmac-sha256", "acme-update"], check=True,
                          capture_output=True, text=True).stdout
    key = parse_key_file(text)
    assert key.name == "acme-update" and key.algorithm == "hmac-sha256" and len(key.secret) == 32
    assert SECRET not in repr(key) and "secret" not in repr(key)


def test_ddns_confgen_style_with_comments_and_md5():
    text = f'# comment\nkey "ddns-key.example.com" {{\n\talgorithm hmac-md5; // legacy\n\tsecret "{SECRET}";\n}};\n'
    key = parse_key_file(text)
    assert key.algorithm == "hmac-md5" and key.dns_algorithm == "hmac-md5.sig-alg.reg.int."


@pytest.mark.parametrize("text,words", [
    ("", "exactly one key"),
    (f'key "a" {{ algorithm hmac-sha256; secret "{SECRET}"; }};' * 2, "exactly one key"),
    (f'key "a" {{ algorithm rot13; secret "{SECRET}"; }};', "unsupported TSIG algorithm"),
    ('key "a" { algorithm hmac-sha256; secret "c2hvcnQ="; };', "shorter than 128 bits"),
    ('key "a" { algorithm hmac-sha256; };', "needs 'algorithm' and 'secret'"),
])
def test_bad_key_files(text, words):
    with pytest.raises(ChallengeError, match=words):
        parse_key_file(text, "k.key")


def test_a_secret_holding_slashes_is_not_a_comment():
    """base64 has '/': about one tsig-keygen secret in a hundred holds '//', which once read as a
    comment ("key needs 'algorithm' and 'secret'"); comments count only outside quotes."""
    import base64

    secret = b"\xff" * 3 + bytes(range(29))
    encoded = base64.b64encode(secret).decode()
    assert "//" in encoded
    key = parse_key_file(f'key "k" {{ // the update key\n\talgorithm hmac-sha256; # sha256\n'
                         f'\tsecret "{encoded}"; /* from tsig-keygen */\n}};\n')
    assert key.secret == secret and key.algorithm == "hmac-sha256"
