"""Readers run the services' own tools on small configs (no daemon is started)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from certbot_safedeploy.services.readers import installed, read_service
from tests import dovecot

LIVE = "/etc/letsencrypt/live/a.example"


def _pem(tmp_path: Path) -> tuple[str, str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=a.example", "-days", "2"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_apache_follows_its_includes(tmp_path):
    (tmp_path / "sites").mkdir()
    conf = tmp_path / "apache2.conf"
    conf.write_text(f"ServerRoot {tmp_path}\nPidFile {tmp_path}/p\nErrorLog {tmp_path}/e.log\n"
                    "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                    "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
                    "IncludeOptional sites/*.conf\n")
    (tmp_path / "sites" / "a.conf").write_text(f"<IfModule ssl_module>\n  SSLCertificateFile {LIVE}/cert.pem\n"
                                               f"  SSLCertificateKeyFile {LIVE}/privkey.pem\n</IfModule>\n")
    svc = read_service("apache2", str(conf), False)
    assert svc.error == ""
    assert [(r.setting, r.path, r.where) for r in svc.references] == [
        ("SSLCertificateFile", f"{LIVE}/cert.pem", f"{tmp_path}/sites/a.conf:2"),
        ("SSLCertificateKeyFile", f"{LIVE}/privkey.pem", f"{tmp_path}/sites/a.conf:3")]


def test_postfix_main_cf_and_master_cf_overrides(tmp_path):
    (tmp_path / "main.cf").write_text(f"compatibility_level = 3.6\nsmtpd_tls_cert_file = {LIVE}/fullchain.pem\n"
                                      f"smtpd_tls_key_file = {LIVE}/privkey.pem\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd\n"
                                        f"  -o smtpd_tls_cert_file={LIVE}/cert.pem\n")
    svc = read_service("postfix", str(tmp_path), False)
    assert svc.error == ""
    assert [(r.setting, r.path) for r in svc.references] == [
        ("smtpd_tls_cert_file", f"{LIVE}/fullchain.pem"), ("smtpd_tls_key_file", f"{LIVE}/privkey.pem"),
        ("submission/inet/smtpd_tls_cert_file", f"{LIVE}/cert.pem")]


def test_dovecot_reads_included_files_through_doveconf(tmp_path):
    cert, key = _pem(tmp_path)
    (tmp_path / "ssl.conf").write_text(dovecot.tls(cert, key))  # 2.3 or 2.4, whichever is installed
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"{dovecot.head()}protocols = imap\nssl = yes\n!include {tmp_path}/ssl.conf\n")
    svc = read_service("dovecot", str(conf), False)
    assert svc.error == ""
    cert_setting, key_setting = dovecot.setting_names()
    assert [(r.setting, r.path) for r in svc.references] == [(cert_setting, cert), (key_setting, key)]


def test_slapd_cn_config_through_slapcat(tmp_path):
    ldif = tmp_path / "config.ldif"
    ldif.write_text(f"dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcTLSCertificateFile: {LIVE}/fullchain.pem\n"
                    f"olcTLSCertificateKeyFile: {LIVE}/privkey.pem\n\n"
                    "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\n")
    (tmp_path / "slapd.d").mkdir()
    subprocess.run(["slapadd", "-n0", "-F", str(tmp_path / "slapd.d"), "-l", str(ldif)], check=True, capture_output=True)
    svc = read_service("slapd", str(tmp_path / "slapd.d"), False)
    assert [(r.setting, r.path) for r in svc.references] == [
        ("olcTLSCertificateFile", f"{LIVE}/fullchain.pem"), ("olcTLSCertificateKeyFile", f"{LIVE}/privkey.pem")]


def test_haproxy_reads_every_cfg_in_a_directory(tmp_path):
    (tmp_path / "10-global.cfg").write_text("global\n  pidfile /run/lb.pid\n")
    (tmp_path / "20-web.cfg").write_text(f"frontend web\n  bind :443 ssl crt {LIVE}/fullchain.pem\n")
    svc = read_service("haproxy", str(tmp_path), False)
    assert svc.pidfile == "/run/lb.pid" and [r.path for r in svc.references] == [f"{LIVE}/fullchain.pem"]


def test_installed_looks_under_the_system_root_or_the_override(tmp_path):
    assert installed(str(tmp_path)) == []
    (tmp_path / "etc" / "nginx").mkdir(parents=True)
    (tmp_path / "etc" / "nginx" / "nginx.conf").write_text("events {}\n")
    assert installed(str(tmp_path)) == [("nginx", f"{tmp_path}/etc/nginx/nginx.conf", True)]
    assert installed(str(tmp_path), {"nginx": "/nonexistent.conf"}) == []


def test_postgresql_clusters_includes_and_relative_paths(tmp_path):
    main = tmp_path / "15" / "main"
    (main / "conf.d").mkdir(parents=True)
    (main / "postgresql.conf").write_text("data_directory = '/var/lib/postgresql/15/main'\ninclude_dir = 'conf.d'\n")
    (main / "conf.d" / "tls.conf").write_text(f"ssl_cert_file = '{LIVE}/fullchain.pem'\nssl_key_file = 'server.key'\n")
    svc = read_service("postgresql", str(main / "postgresql.conf"), False)
    assert [r.path for r in svc.references] == [f"{LIVE}/fullchain.pem", "/var/lib/postgresql/15/main/server.key"]
    assert svc.pidfile == "/var/lib/postgresql/15/main/postmaster.pid"
    every = read_service("postgresql", str(tmp_path), True)  # Debian's /etc/postgresql: every cluster
    assert [r.path for r in every.references] == [r.path for r in svc.references]
