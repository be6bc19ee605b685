"""Presets: resolved commands, config keys that override them, and the real tools' verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certbot_safedeploy.config.load import parse_config
from certbot_safedeploy.deploy.service import run_command
from certbot_safedeploy.errors import ConfigError
from certbot_safedeploy.config.service_presets import PRESETS, Instance, PresetError, resolve
from tests import dovecot

FILES = 'files = [ { path = "/etc/ssl/x/site.pem", content = ["fullchain"] } ]'


def target(extra: str) -> str:
    return f'[[target]]\nname = "t"\nlineage = "example.com"\n{FILES}\n{extra}\n'


@pytest.mark.parametrize("name,check,reload", [
    ("nginx", ("nginx", "-t", "-q"), ("systemctl", "reload", "nginx")),
    ("apache2", ("apache2ctl", "configtest"), ("systemctl", "reload", "apache2")),
    ("haproxy", ("haproxy", "-c", "-q", "-f", "/etc/haproxy/haproxy.cfg"), ("systemctl", "reload", "haproxy")),
    ("postfix", ("postfix", "check"), ("systemctl", "reload", "postfix")),
    ("dovecot", ("doveconf", "-n"), ("systemctl", "reload", "dovecot")),
    ("slapd", ("slaptest", "-u", "-F", "/etc/ldap/slapd.d"), ("systemctl", "restart", "slapd")),
    ("postgresql", (), ("systemctl", "reload", "postgresql")),
])
def test_default_instance_uses_the_distribution_commands(name, check, reload):
    resolved = resolve(name)
    assert (resolved.check, resolved.reload) == (check, reload)


def test_an_instance_run_from_its_own_config_is_driven_directly():
    assert resolve("nginx", Instance("/srv/n.conf")).reload == ("nginx", "-c", "/srv/n.conf", "-s", "reload")
    assert resolve("postfix", Instance("/srv/pf")).check == ("postfix", "-c", "/srv/pf", "check")
    assert resolve("dovecot", Instance("/srv/d.conf")).reload == ("doveadm", "-c", "/srv/d.conf", "reload")
    assert resolve("apache2", Instance("/srv/a.conf")).reload == ("apache2ctl", "-f", "/srv/a.conf", "-k", "graceful")
    assert resolve("slapd", Instance("/srv/slapd.conf")).check == ("slaptest", "-u", "-f", "/srv/slapd.conf")
    assert resolve("slapd", Instance("/srv/slapd.d")).reload is None
    haproxy = resolve("haproxy", Instance("/srv/h.cfg", "/run/h.pid")).reload
    assert haproxy is not None and haproxy[0] == "/bin/sh" and haproxy[-1] == "/run/h.pid"  # the path is "$1"
    assert resolve("haproxy", Instance("/srv/h.cfg")).reload is None


def test_unknown_service_and_misplaced_pidfile_are_refused():
    with pytest.raises(PresetError, match="unknown service"):
        resolve("lighttpd-typo")
    with pytest.raises(PresetError, match="does not use a pid file"):
        resolve("nginx", Instance("/srv/n.conf", "/run/n.pid"))


def test_preset_fills_check_reload_and_probe():
    t = parse_config(target('service = "nginx"')).targets[0]
    assert t.service == "nginx" and t.check == ("nginx", "-t", "-q")
    assert t.reload == ("systemctl", "reload", "nginx")
    assert t.probe is not None and (t.probe.host, t.probe.port, t.probe.servername) == ("127.0.0.1", 443, "example.com")


def test_starttls_presets_probe_their_own_port():
    for name, port in (("postfix", 25), ("dovecot", 143), ("slapd", 389), ("postgresql", 5432)):
        probe = parse_config(target(f'service = "{name}"')).targets[0].probe
        assert probe is not None and probe.port == port
        assert PRESETS[name].probe_table("x")["starttls"] in ("smtp", "imap", "ldap", "postgres")


def test_explicit_keys_override_the_preset():
    t = parse_config(target('service = "nginx"\nreload = ["/usr/local/bin/my-reload"]\n'
                            'probe = { connect = "127.0.0.1:8443", servername = "www.example.com" }')).targets[0]
    assert t.check == ("nginx", "-t", "-q") and t.reload == ("/usr/local/bin/my-reload",)
    assert t.probe is not None and (t.probe.port, t.probe.servername) == (8443, "www.example.com")
    assert parse_config(target('service = "nginx"\nprobe = false')).targets[0].probe is None


def test_service_table_names_an_instance():
    t = parse_config(target('service = { name = "haproxy", config = "/srv/h.cfg", pidfile = "/run/h.pid" }')).targets[0]
    assert t.service == "haproxy" and t.service_config == "/srv/h.cfg" and t.reload[-1] == "/run/h.pid"


@pytest.mark.parametrize("value,message", [
    ('"nginxx"', "unknown service 'nginxx'"),
    ('{ config = "/srv/n.conf" }', "needs 'name'"),
    ('{ name = "nginx", conf = "/srv/n.conf" }', "unknown key 'conf'"),
    ('{ name = "nginx", config = "relative.conf" }', "not a normalized absolute path"),
    ('{ name = "haproxy", pidfile = "/run/h.pid" }', "needs the instance's 'config'"),
    ('{ name = "haproxy", config = "/srv/h.cfg" }', "has no reload command"),
    ('{ name = "slapd", config = "/srv/slapd.d" }', "has no reload command"),
    ('{ name = "nginx", config = "/srv/n.conf", pidfile = "/run/n.pid" }', "does not use a pid file"),
])
def test_bad_service_values_name_the_key_and_line(value, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(target(f"service = {value}"), "/etc/s.toml")
    assert "/etc/s.toml:5" in str(info.value)


def test_slapd_instance_with_explicit_reload_is_accepted():
    t = parse_config(target('service = { name = "slapd", config = "/srv/slapd.d" }\nreload = ["/bin/true"]')).targets[0]
    assert t.check == ("slaptest", "-u", "-F", "/srv/slapd.d") and t.reload == ("/bin/true",)


# -- the presets' own commands, run for real on small configs (no server is started) --

def _nginx_conf(tmp_path: Path, body: str) -> str:
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/n.pid;\nerror_log {tmp_path}/e.log;\nevents {{}}\nhttp {{ {body} }}\n")
    return str(conf)


def test_real_nginx_check_accepts_good_and_refuses_broken_config(tmp_path):
    good = resolve("nginx", Instance(_nginx_conf(tmp_path, "access_log off;"))).check
    assert run_command(good).ok
    bad = resolve("nginx", Instance(_nginx_conf(
        tmp_path, "access_log off; server { listen 127.0.0.1:1 ssl; ssl_certificate /nonexistent/x.pem; "
                  "ssl_certificate_key /nonexistent/x.key; }")))
    result = run_command(bad.check)
    assert not result.ok and "exit 1" in result.detail


def test_real_haproxy_and_dovecot_checks(tmp_path):
    cfg = tmp_path / "h.cfg"
    cfg.write_text("defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"
                   "frontend f\n  bind 127.0.0.1:1\n")
    assert run_command(resolve("haproxy", Instance(str(cfg), "/run/x.pid")).check).ok
    cfg.write_text("frontend f\n  bind 127.0.0.1:1 ssl crt /nonexistent.pem\n")
    assert not run_command(resolve("haproxy", Instance(str(cfg), "/run/x.pid")).check).ok
    dove = tmp_path / "d.conf"
    dove.write_text(f"{dovecot.head()}protocols = imap\n")  # 2.3 or 2.4, whichever is installed
    assert run_command(resolve("dovecot", Instance(str(dove))).check).ok
    dove.write_text(f"{dovecot.head()}protocols = imap\nno_such_setting = 1\n")
    assert not run_command(resolve("dovecot", Instance(str(dove))).check).ok


def test_config_json_argv_roundtrip():
    argv = resolve("haproxy", Instance("/srv/h.cfg", "/run/h.pid")).reload
    t = parse_config(target(f"service = \"haproxy\"\nreload = {json.dumps(list(argv or ()))}")).targets[0]
    assert t.reload == argv
