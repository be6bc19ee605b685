"""The [challenge] table: zone entries, the resolver, overrides, and the key-file checks."""

import os

import pytest

from certbot_safedeploy.config.challenge_section import ChallengeSettings, settings_from_table
from certbot_safedeploy.config.load import challenge_settings_from_file as settings_from_file
from certbot_safedeploy.config.load import check_key_paths, parse_config
from certbot_safedeploy.errors import ChallengeError, ConfigError

TABLE = {
    "resolver": "127.0.0.53",
    "tsig_key": "/etc/letsencrypt/global.key",
    "zone": [
        {"name": "example.com", "server": "ns1.example.com:53", "tsig_key": "/etc/letsencrypt/example.com.key",
         "dns_port": 53},
        {"name": "Shop.Example.com.", "server": "[2001:db8::1]:5353"},
        {"name": "acme.example.net"},  # its SOA MNAME, with the global key
    ],
}


def test_zone_entries_match_the_longest_suffix():
    s = settings_from_table(TABLE, "c.toml")
    assert s.resolver == "127.0.0.53" and s.dns_enabled
    assert s.zone_for("_acme-challenge.www.example.com").server == "ns1.example.com:53"
    assert s.zone_for("_acme-challenge.shop.example.com").name == "shop.example.com"  # normalized
    assert s.zone_for("_acme-challenge.x.shop.example.com").server == "[2001:db8::1]:5353"
    assert s.zone_for("example.com").name == "example.com"
    assert s.zone_for("notexample.com") is None and s.zone_for("example.org") is None
    assert s.zone_for("x.acme.example.net").server is None
    assert s.key_paths() == ["/etc/letsencrypt/example.com.key", "/etc/letsencrypt/global.key"]


@pytest.mark.parametrize("zone,message", [
    ({"server": "a:53"}, "missing 'name'"),
    ({"name": "a.com", "key": "/k"}, "unknown key 'key'"),
    ({"name": "a.com", "tsig_key": "relative.key"}, "must be an absolute path"),
    ({"name": "a.com", "server": "a:99999"}, "is not HOST\\[:PORT\\]"),
    ({"name": "a.com", "dns_port": "53"}, "must be a number"),
    ({"name": "a.com", "dns_port": 0}, "between 1 and 65535"),
    ({"name": "bad_name.com"}, "not a valid domain name"),
])
def test_bad_zone_entries_are_one_line_errors(zone, message):
    with pytest.raises(ChallengeError, match=message) as info:
        settings_from_table({"zone": [zone]}, "c.toml")
    assert str(info.value).startswith("c.toml: [challenge]")


def test_duplicate_zone_and_bad_resolver():
    with pytest.raises(ChallengeError, match="listed twice"):
        settings_from_table({"zone": [{"name": "a.com"}, {"name": "A.com"}]}, "c.toml")
    with pytest.raises(ChallengeError, match="resolver"):
        settings_from_table({"resolver": "1.2.3.4:x"}, "c.toml")
    with pytest.raises(ChallengeError, match="array of tables"):
        settings_from_table({"zone": {"name": "a.com"}}, "c.toml")


def test_cli_overrides_win_over_the_file():
    s = settings_from_table(TABLE, "c.toml", {"resolver": "127.0.0.1:5353", "propagation_timeout": 30.0})
    assert s.resolver == "127.0.0.1:5353" and s.propagation_timeout == 30.0 and len(s.zone) == 3


def test_the_config_parser_accepts_zone_entries_and_names_the_line():
    text = '[challenge]\nresolver = "127.0.0.53"\n[[challenge.zone]]\nname = "example.com"\nserver = "ns1:53"\n'
    config = parse_config(text, "s.toml")
    assert config.challenge.zone[0].name == "example.com"
    with pytest.raises(ConfigError, match="unknown key 'srv'"):
        parse_config(text + '[[challenge.zone]]\nname = "b.com"\nsrv = "x"\n', "s.toml")


def key(tmp_path, name="k.key", mode=0o600):
    path = tmp_path / name
    path.write_text('key "k" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0"; };\n')
    path.chmod(mode)
    return str(path)


def test_key_files_must_not_be_writable_by_others(tmp_path):
    tmp_path.chmod(0o700)
    good = key(tmp_path)
    check_key_paths(ChallengeSettings(tsig_key=good))
    bad = key(tmp_path, "g.key", 0o620)
    with pytest.raises(ChallengeError, match="writable by group or others") as info:
        check_key_paths(ChallengeSettings(zone=(settings_from_table({"zone": [
            {"name": "a.com", "tsig_key": bad}]}, "c").zone)))
    assert "chmod 0600" in str(info.value)
    with pytest.raises(ChallengeError, match="does not exist"):
        check_key_paths(ChallengeSettings(tsig_key=str(tmp_path / "missing.key")))


def test_key_files_and_the_config_must_be_owned_by_root(tmp_path):
    tmp_path.chmod(0o700)
    path = key(tmp_path)
    os.chown(path, 65534, 65534)
    with pytest.raises(ChallengeError, match="owned by uid 65534, not root"):
        check_key_paths(ChallengeSettings(tsig_key=path))
    os.chown(path, 0, 0)
    config = tmp_path / "safedeploy.toml"
    config.write_text(f'[challenge]\ntsig_key = "{path}"\n')
    config.chmod(0o664)
    with pytest.raises(ChallengeError, match="names TSIG keys, but .* writable by group or others"):
        settings_from_file(str(config), {})
    config.chmod(0o600)
    assert settings_from_file(str(config), {"resolver": "127.0.0.1"}).tsig_key == path
    with pytest.raises(ChallengeError, match="absolute path"):
        settings_from_file("safedeploy.toml", {})


@pytest.mark.parametrize("settings", [
    {"webroot": "/var/www/" + "w" * 256},
    {"tsig_key": "/etc/letsencrypt/" + "k" * 4100},
    {"webroot_map": {"example.com": "/srv/" + "é" * 200}},
])
def test_paths_the_kernel_refuses_are_refused_when_read(settings):
    """ENAMETOOLONG would come at the first challenge; it is a settings error instead."""
    with pytest.raises(ChallengeError, match="NAME_MAX|PATH_MAX"):
        ChallengeSettings(**settings)
