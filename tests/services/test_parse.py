"""Parsers of the services' effective configurations."""

from __future__ import annotations

import base64

from certbot_safedeploy.services.parse import (Reference, parse_apache_file, parse_apache_includes, parse_doveconf,
                                               parse_haproxy, parse_nginx_dump, parse_postconf, parse_slapd)

LIVE = "/etc/letsencrypt/live/example.com"

NGINX_T = f"""\
# configuration file /etc/nginx/nginx.conf:
events {{}}
http {{ include /etc/nginx/sites-enabled/*; }}

# configuration file /etc/nginx/sites-enabled/default:
server {{
    listen 443 ssl;
    # ssl_certificate /old/commented.pem;
    ssl_certificate {LIVE}/fullchain.pem; ssl_certificate_key "{LIVE}/privkey.pem";
    ssl_trusted_certificate '{LIVE}/chain.pem';
    ssl_certificate $ssl_server_name.pem;
    ssl_certificate data:-----BEGIN;
}}
"""


def test_nginx_dump_names_file_and_line():
    refs = parse_nginx_dump(NGINX_T)
    assert refs == [
        Reference("nginx", "ssl_certificate", f"{LIVE}/fullchain.pem", "/etc/nginx/sites-enabled/default:4"),
        Reference("nginx", "ssl_certificate_key", f"{LIVE}/privkey.pem", "/etc/nginx/sites-enabled/default:4"),
        Reference("nginx", "ssl_trusted_certificate", f"{LIVE}/chain.pem", "/etc/nginx/sites-enabled/default:5"),
    ]
    assert [r.part for r in refs] == ["fullchain", "privkey", "chain"]


def test_apache_includes_and_directives():
    dump = "Included configuration files:\n  (*) /etc/apache2/apache2.conf\n    (224) /etc/apache2/sites-enabled/a.conf"
    assert parse_apache_includes(dump) == ["/etc/apache2/apache2.conf", "/etc/apache2/sites-enabled/a.conf"]
    text = f'<VirtualHost *:443>\n  SSLCertificateFile "{LIVE}/cert.pem"\n  sslcertificatekeyfile ssl/k.pem\n' \
           f"  SSLCertificateChainFile {LIVE}/chain.pem\n</VirtualHost>\n"
    refs = parse_apache_file(text, "/etc/apache2/sites-enabled/a.conf", "/etc/apache2")
    assert [(r.setting, r.path, r.where.rsplit(":", 1)[1]) for r in refs] == [
        ("SSLCertificateFile", f"{LIVE}/cert.pem", "2"),
        ("sslcertificatekeyfile", "/etc/apache2/ssl/k.pem", "3"),
        ("SSLCertificateChainFile", f"{LIVE}/chain.pem", "4"),
    ]


def test_haproxy_crt_crt_base_and_pidfile():
    text = ("global\n  pidfile /run/haproxy.pid\n  crt-base /etc/letsencrypt/live\n"
            "frontend f\n  bind :443 ssl crt example.com/fullchain.pem crt /etc/haproxy/other.pem # crt /x\n"
            "backend b\n  server s1 10.0.0.1:443 ssl crt-list /etc/haproxy/list.txt\n")
    refs, pidfile = parse_haproxy(text, "/etc/haproxy/haproxy.cfg")
    assert pidfile == "/run/haproxy.pid"
    assert [(r.setting, r.path, r.where) for r in refs] == [
        ("crt", f"{LIVE}/fullchain.pem", "/etc/haproxy/haproxy.cfg:5"),
        ("crt", "/etc/haproxy/other.pem", "/etc/haproxy/haproxy.cfg:5"),
        ("crt-list", "/etc/haproxy/list.txt", "/etc/haproxy/haproxy.cfg:7"),
    ]


def test_postconf_main_and_master_overrides():
    main = (f"smtpd_tls_cert_file = {LIVE}/fullchain.pem\nsmtpd_tls_key_file = {LIVE}/privkey.pem\n"
            f"smtpd_tls_chain_files = {LIVE}/privkey.pem, {LIVE}/fullchain.pem\nsmtpd_tls_security_level = may\n"
            "smtp_tls_CAfile = /etc/ssl/certs/ca-certificates.crt\n")
    refs = parse_postconf(main, "/etc/postfix/main.cf")
    assert [(r.setting, r.part) for r in refs] == [("smtpd_tls_cert_file", "fullchain"),
                                                   ("smtpd_tls_key_file", "privkey"),
                                                   ("smtpd_tls_chain_files", "privkey"),
                                                   ("smtpd_tls_chain_files", "fullchain")]
    master = parse_postconf(f"submission/inet/smtpd_tls_cert_file = {LIVE}/cert.pem\n", "/etc/postfix/master.cf")
    assert [(r.setting, r.path) for r in master] == [("submission/inet/smtpd_tls_cert_file", f"{LIVE}/cert.pem")]


def test_doveconf_keeps_file_references_only():
    text = (f"ssl_cert = <{LIVE}/fullchain.pem\nssl_key = <{LIVE}/privkey.pem\nlocal_name mail.example.com {{\n"
            f"  ssl_cert = </etc/dovecot/other.pem\n}}\nssl_key = -----BEGIN PRIVATE KEY-----\nssl_alt_key = # hidden\n")
    refs = parse_doveconf(text, "/etc/dovecot/dovecot.conf")
    assert [(r.setting, r.path) for r in refs] == [("ssl_cert", f"{LIVE}/fullchain.pem"),
                                                   ("ssl_key", f"{LIVE}/privkey.pem"),
                                                   ("ssl_cert", "/etc/dovecot/other.pem")]


def test_doveconf_24_flat_settings_and_ssl_server_blocks():
    """Dovecot 2.4: ssl_server_cert_file = PATH, printed by doveconf -n inside ssl_server { }."""
    text = ("dovecot_config_version = 2.4.1\nprotocols = imap\nssl_server {\n"
            f"  cert_file = {LIVE}/fullchain.pem\n  key_file = {LIVE}/privkey.pem\n}}\n"
            "local_name mail.example.com {\n  ssl_server {\n    cert_file = /etc/dovecot/other.pem\n  }\n}\n"
            "ssl_client {\n  ca_file = /etc/ssl/certs/ca-certificates.crt\n}\n"
            f"ssl_server_alt_cert_file = {LIVE}/cert.pem\nservice imap-login {{\n  inet_listener imap {{\n"
            "    port = 143\n  }\n}\n")
    refs = parse_doveconf(text, "/etc/dovecot/dovecot.conf")
    assert [(r.setting, r.path, r.part) for r in refs] == [
        ("ssl_server_cert_file", f"{LIVE}/fullchain.pem", "fullchain"),
        ("ssl_server_key_file", f"{LIVE}/privkey.pem", "privkey"),
        ("ssl_server_cert_file", "/etc/dovecot/other.pem", ""),
        ("ssl_server_alt_cert_file", f"{LIVE}/cert.pem", "cert")]


def test_doveconf_23_and_24_name_the_same_files():
    v23 = parse_doveconf(f"ssl_cert = <{LIVE}/fullchain.pem\nssl_key = <{LIVE}/privkey.pem\n", "d.conf")
    v24 = parse_doveconf(f"ssl_server_cert_file = {LIVE}/fullchain.pem\nssl_server_key_file = {LIVE}/privkey.pem\n",
                         "d.conf")
    assert [r.path for r in v23] == [r.path for r in v24]
    # a 2.3 name with a 2.4-style bare value is an inline value in 2.3, never a path
    assert parse_doveconf(f"ssl_cert = {LIVE}/fullchain.pem\n", "d.conf") == []


def test_slapd_ldif_folding_base64_and_slapd_conf():
    encoded = base64.b64encode(f"{LIVE}/privkey.pem".encode()).decode()
    ldif = (f"dn: cn=config\nolcTLSCertificateFile: {LIVE}/full\n chain.pem\n"
            f"olcTLSCertificateKeyFile:: {encoded}\nolcTLSCACertificateFile:: !!notbase64\n")
    refs = parse_slapd(ldif, "/etc/ldap/slapd.d")
    assert [(r.setting, r.path) for r in refs] == [("olcTLSCertificateFile", f"{LIVE}/fullchain.pem"),
                                                   ("olcTLSCertificateKeyFile", f"{LIVE}/privkey.pem")]
    conf = parse_slapd(f"TLSCertificateFile {LIVE}/cert.pem\n# TLSCertificateKeyFile /x\n", "/etc/ldap/slapd.conf")
    assert [(r.setting, r.path) for r in conf] == [("TLSCertificateFile", f"{LIVE}/cert.pem")]


def test_postgresql_conf_settings_includes_and_data_directory():
    from certbot_safedeploy.services.parse import parse_postgresql

    text = (f"data_directory = '/var/lib/postgresql/15/main'\nssl = on\n#ssl_cert_file = '/old.pem'\n"
            f"ssl_cert_file = '{LIVE}/fullchain.pem'  # certbot\nssl_key_file '{LIVE}/privkey.pem'\n"
            "ssl_ca_file = ''\ninclude_dir = 'conf.d'\ninclude_if_exists 'extra.conf'\n")
    parsed = parse_postgresql(text, "/etc/postgresql/15/main/postgresql.conf")
    assert parsed.data_directory == "/var/lib/postgresql/15/main"
    assert [(r.setting, r.path, r.where.rsplit(":", 1)[1]) for r in parsed.references] == [
        ("ssl_cert_file", f"{LIVE}/fullchain.pem", "4"), ("ssl_key_file", f"{LIVE}/privkey.pem", "5")]
    assert parsed.includes == [("include_dir", "conf.d"), ("include_if_exists", "extra.conf")]
