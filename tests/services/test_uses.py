"""Client use, stapling and names in service configurations (services/uses.py), each with file and line."""

import base64

from certbot_safedeploy.services.uses import (CERT, CLIENT, NAME, STAPLE, parse_apache_uses, parse_haproxy_uses,
                                              parse_nginx_uses, parse_postfix_uses, parse_postgresql_uses,
                                              parse_slapd_uses, postfix_lines)


def kinds(uses):
    return [(u.kind, u.setting, u.value, u.where) for u in uses]


def test_nginx_proxy_certificate_stapling_and_names_by_server_block():
    dump = """# configuration file /etc/nginx/nginx.conf:
http {
  ssl_stapling on;
  server {
    server_name a.example *.b.example _;
    ssl_certificate /tls/a.crt;   # served
    location / { proxy_ssl_certificate "/tls/a.crt"; }
  }
}
"""
    uses = parse_nginx_uses(dump)
    assert kinds(uses) == [
        (STAPLE, "ssl_stapling", "on", "/etc/nginx/nginx.conf:2"),
        (NAME, "server_name", "a.example", "/etc/nginx/nginx.conf:4"),
        (NAME, "server_name", "*.b.example", "/etc/nginx/nginx.conf:4"),
        (CERT, "ssl_certificate", "/tls/a.crt", "/etc/nginx/nginx.conf:5"),
        (CLIENT, "proxy_ssl_certificate", "/tls/a.crt", "/etc/nginx/nginx.conf:6"),
    ]
    assert uses[0].scope == "" and uses[1].scope == uses[4].scope == "/etc/nginx/nginx.conf:3"


def test_apache_proxy_machine_certificate_and_stapling():
    text = ("SSLUseStapling On\n<VirtualHost *:443>\n ServerName www.example:443\n ServerAlias shop.example\n"
            " SSLCertificateFile /tls/x.crt\n SSLProxyMachineCertificateFile tls/client.pem\n</VirtualHost>\n")
    uses = parse_apache_uses(text, "/etc/apache2/sites-enabled/x.conf", "/etc/apache2")
    assert (CLIENT, "SSLProxyMachineCertificateFile", "/etc/apache2/tls/client.pem",
            "/etc/apache2/sites-enabled/x.conf:6") in kinds(uses)
    assert (STAPLE, "SSLUseStapling", "on", "/etc/apache2/sites-enabled/x.conf:1") in kinds(uses)
    assert [u.value for u in uses if u.kind == NAME] == ["www.example", "shop.example"]


def test_haproxy_server_crt_is_client_use_and_bind_crt_is_not():
    text = "crt-base /etc/haproxy/certs\nfrontend f\n  bind :443 ssl crt site.pem\nbackend b\n" \
           "  server s1 10.0.0.1:443 ssl crt client.pem verify required\n"
    uses = parse_haproxy_uses(text, "/etc/haproxy/haproxy.cfg")
    assert kinds(uses) == [(CERT, "bind ... crt", "/etc/haproxy/certs/site.pem", "/etc/haproxy/haproxy.cfg:3"),
                           (CLIENT, "server ... crt", "/etc/haproxy/certs/client.pem", "/etc/haproxy/haproxy.cfg:5")]


def test_postfix_smtp_client_settings_with_main_cf_lines():
    main = "smtpd_tls_cert_file = /tls/s.pem\n\nsmtp_tls_chain_files = /tls/k.pem, /tls/c.pem\n"
    where = postfix_lines(main, "/etc/postfix/main.cf")
    uses = parse_postfix_uses("smtpd_tls_cert_file = /tls/s.pem\nsmtp_tls_chain_files = /tls/k.pem, /tls/c.pem\n",
                              where)
    assert [(u.setting, u.value, u.where) for u in uses] == [
        ("smtp_tls_chain_files", "/tls/k.pem", "/etc/postfix/main.cf:3"),
        ("smtp_tls_chain_files", "/tls/c.pem", "/etc/postfix/main.cf:3")]


def test_slapd_syncrepl_tls_cert_plain_folded_and_base64():
    value = 'rid=001 provider=ldaps://p.example tls_cert="/tls/r.crt" tls_key=/tls/r.key'
    ldif = ("dn: olcDatabase={1}mdb,cn=config\nolcSyncrepl: rid=001 provider=ldaps://p.example tls_ce\n"
            " rt=/tls/r.crt\nolcSyncrepl:: " + base64.b64encode(value.encode()).decode() + "\n")
    uses = parse_slapd_uses(ldif, "slapcat -n 0")
    assert [(u.value, u.where) for u in uses] == [("/tls/r.crt", "slapcat -n 0:2"), ("/tls/r.crt", "slapcat -n 0:4")]


def test_postgresql_primary_conninfo_sslcert():
    text = "port = 5432\nprimary_conninfo = 'host=p port=5432 sslmode=verify-full sslcert=/tls/rep.crt'\n"
    (use,) = parse_postgresql_uses(text, "/etc/postgresql/16/main/postgresql.conf")
    assert (use.kind, use.value, use.where) == (CLIENT, "/tls/rep.crt", "/etc/postgresql/16/main/postgresql.conf:2")
