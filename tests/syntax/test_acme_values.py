import pytest

from certbot_safedeploy.config.challenge_section import ChallengeSettings, settings_from_table
from certbot_safedeploy.syntax.acme_values import (
    check_domain, check_token, parse_webroot_map,
)
from certbot_safedeploy.errors import ChallengeError


@pytest.mark.parametrize("token", ["../../etc/passwd", "a/b", "a b", "", "x" * 300, "tok=", "a\x00"])
def test_hostile_tokens_are_refused(token):
    with pytest.raises(ChallengeError, match="base64url"):
        check_token(token)


def test_good_token():
    assert check_token("6qguuwQSu743sTJPjmKHy3iFV2ywTJuu2vX-p3wkDjk")


@pytest.mark.parametrize("name,expected", [
    ("Example.COM.", "example.com"), ("*.example.com", "*.example.com"), ("bücher.de", "xn--bcher-kva.de")])
def test_domains(name, expected):
    assert check_domain(name) == expected


@pytest.mark.parametrize("name", ["-a.com", "a..com", "a_b.com", "*.*.com", "a.com/x", "a" * 64 + ".com", "x.*.com"])
def test_bad_domains(name):
    with pytest.raises(ChallengeError):
        check_domain(name)


def test_webroot_map_json():
    assert parse_webroot_map('{"a.com,www.a.com": "/var/www/", "b.com": "/srv/b"}') == {
        "a.com": "/var/www", "www.a.com": "/var/www", "b.com": "/srv/b"}
    for bad in ("{", "[]", '{"a.com": "relative"}', '{"a.com": 3}'):
        with pytest.raises(ChallengeError):
            parse_webroot_map(bad)


def test_methods_per_name():
    s = ChallengeSettings(webroot_map={"a.com": "/w"}, nsupdate_server="127.0.0.1")
    assert s.methods_for("a.com") == ["http-01", "dns-01"]
    assert s.methods_for("*.a.com") == ["dns-01"]
    assert s.methods_for("b.com") == ["dns-01"]
    assert ChallengeSettings(webroot="/w").methods_for("*.a.com") == []


def test_settings_from_table_is_strict():
    s = settings_from_table({"webroot_map": {"example.com": "/var/www/html"}, "nsupdate_server": "192.0.2.53:53",
                             "tsig_key": "/etc/bind/acme.key", "http_port": 80, "propagation_timeout": 120}, "c.toml")
    assert s.webroot_for("example.com") == "/var/www/html" and s.propagation_timeout == 120
    with pytest.raises(ChallengeError, match="unknown key 'webrot'"):
        settings_from_table({"webrot": "/x"}, "c.toml")
    with pytest.raises(ChallengeError, match="must be a number"):
        settings_from_table({"http_port": "80"}, "c.toml")
    with pytest.raises(ChallengeError, match="self-check"):
        settings_from_table({"self_check": "maybe"}, "c.toml")
