import os

import pytest

from certbot_safedeploy.config.load import load_config, parse_config
from certbot_safedeploy.errors import ConfigError

GOOD = """\
trust_anchors = ["/etc/ssl/certs/ca-certificates.crt"]
backups = 3

[[target]]
name = "web"
lineage = "example.com"
owner = "root"
group = "root"
acl_read = ["nobody"]
files = [
  { path = "/etc/nginx/tls/example.com.crt", content = ["fullchain"] },
  { path = "/etc/nginx/tls/example.com.key", content = ["privkey"], mode = "0600" },
]
check = ["nginx", "-t"]
reload = ["systemctl", "reload", "nginx"]
probe = { connect = "127.0.0.1:443", servername = "example.com", timeout = 10 }

[[target]]
name = "haproxy"
lineage = "example.com"
files = [
  { path = "/etc/haproxy/certs/example.com.pem", content = ["fullchain", "privkey"] },
]
"""


def test_parses_the_documented_example():
    config = parse_config(GOOD, "safedeploy.toml")
    web, haproxy = config.targets
    assert web.files[1].mode == 0o600 and web.files[0].mode == 0o644
    assert haproxy.files[0].mode == 0o600  # holds a key: private by default
    assert web.probe and web.probe.port == 443 and web.probe.timeout == 10
    assert [t.name for t in config.targets_for("example.com")] == ["web", "haproxy"]
    assert config.runs_commands


@pytest.mark.parametrize("edit,words,line", [
    (("backups = 3", "backups = 3\nbogus = 1"), "unknown key 'bogus'", 3),
    (('owner = "root"', 'owner = "root"\nowners = "x"'), "unknown key 'owners'", 8),
    (("backups = 3", 'backups = "three"'), "whole number", 2),
    (('"/etc/nginx/tls/example.com.crt"', '"tls/example.com.crt"'), "absolute path", 11),
    (('"/etc/nginx/tls/example.com.crt"', '"/etc/nginx/../x.crt"'), "absolute path", 11),
    (('"/etc/nginx/tls/example.com.crt"', '"/etc/haproxy/certs/example.com.pem"'), "also written", 22),
    (('content = ["privkey"], mode = "0600"', 'content = ["privkey"], mode = "0640"'), "private key", 12),
    (('content = ["fullchain"] }', 'content = ["fulchain"] }'), "unknown part", 11),
    (('name = "haproxy"', 'name = "web"'), "used twice", 19),
    (('check = ["nginx", "-t"]', 'check = "nginx -t"'), "list of strings", 14),
    (('timeout = 10', 'timeout = 1000'), "between 0 and 300", 16),
    (('lineage = "example.com"\nowner', 'lineage = "../etc"\nowner'), "characters outside", 6),
    # paths the kernel refuses (ENAMETOOLONG): a 256-byte file name, a path of 4096 bytes
    (('"/etc/nginx/tls/example.com.crt"', '"/etc/nginx/' + "n" * 256 + '.crt"'), "(NAME_MAX)", 11),
    (('"/etc/nginx/tls/example.com.crt"', '"' + "/abcdefgh" * 456 + '"'), "(PATH_MAX)", 11),
    (("backups = 3", 'backups = 3\nstate_dir = "/var/lib/' + "9" * 300 + '"'), "(NAME_MAX)", 3),
])
def test_hostile_config_is_refused_with_line(edit, words, line):
    text = GOOD.replace(*edit, 1)
    assert text != GOOD
    with pytest.raises(ConfigError) as info:
        parse_config(text, "safedeploy.toml")
    assert words in str(info.value)
    assert info.value.path == f"safedeploy.toml:{line}", str(info.value)


def test_syntax_errors_name_the_line():
    with pytest.raises(ConfigError, match="line 2"):
        parse_config("backups = 3\n[[target]\n", "c.toml")


def test_config_with_commands_must_be_root_owned_and_not_writable(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(GOOD)
    os.chmod(path, 0o644)
    load_config(str(path))  # root-owned, 0644: fine
    os.chmod(path, 0o664)
    with pytest.raises(ConfigError, match="writable by group or others") as info:
        load_config(str(path))
    assert "chmod go-w" in str(info.value)
    os.chmod(path, 0o644)
    os.chown(path, 65534, 0)
    with pytest.raises(ConfigError, match="not root"):
        load_config(str(path))


def test_destination_behind_foreign_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "tls"
    link.symlink_to(real)
    os.lchown(link, 65534, 65534)
    path = tmp_path / "c.toml"
    path.write_text(f'[[target]]\nname="w"\nlineage="l"\nfiles=[{{path="{link}/a.crt", content=["cert"]}}]\n')
    with pytest.raises(ConfigError, match="symlink owned by uid 65534"):
        load_config(str(path))


def test_config_is_not_read_through_a_symlink(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text(GOOD)
    (tmp_path / "c.toml").symlink_to(real)
    with pytest.raises(ConfigError, match="config is a symlink; refusing to follow it") as info:
        load_config(str(tmp_path / "c.toml"))
    assert str(real) in info.value.fix


def test_probe_starttls_protocol_and_default_port():
    from certbot_safedeploy.config.load import parse_config

    text = GOOD.replace('connect = "127.0.0.1:443"', 'connect = "127.0.0.1", starttls = "smtp"')
    probe = parse_config(text).targets[0].probe
    assert probe and probe.starttls == "smtp" and probe.port == 25
    assert str(probe) == "127.0.0.1:25 (SNI example.com via STARTTLS/smtp)"


def test_probe_unknown_starttls_names_the_choices():
    from certbot_safedeploy.config.load import parse_config

    with pytest.raises(ConfigError, match="unknown STARTTLS protocol 'gopher'.*smtp, imap, pop3, ldap"):
        parse_config(GOOD.replace('servername = "example.com"',
                                        'servername = "example.com", starttls = "gopher"'))
