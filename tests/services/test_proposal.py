"""classify and propose: trapped vs protected references, and the target text adopt prints."""

from __future__ import annotations

from certbot_safedeploy.config.load import parse_config
from certbot_safedeploy.services.parse import Reference
from certbot_safedeploy.services.proposal import classify, propose, trapped_lineage
from certbot_safedeploy.services.readers import ServiceConfig

LE = "/etc/letsencrypt"
PIN = "sha256/" + "A" * 43 + "="


def nginx(*refs: Reference, default: bool = True) -> ServiceConfig:
    return ServiceConfig("nginx", "/etc/nginx/nginx.conf" if default else "/srv/n/nginx.conf", default, refs)


def ref(path: str, setting: str = "ssl_certificate", service: str = "nginx") -> Reference:
    return Reference(service, setting, path, "/etc/nginx/sites-enabled/x:3")


def test_trapped_lineage_covers_live_and_archive_only():
    assert trapped_lineage(f"{LE}/live/a.example/fullchain.pem", [LE]) == ("a.example", "live")
    assert trapped_lineage(f"{LE}/archive/a.example/privkey7.pem", [LE]) == ("a.example", "archive")
    assert trapped_lineage(f"{LE}/live/../live/b/cert.pem", [LE]) == ("b", "live")
    assert trapped_lineage(f"{LE}/livex/a/cert.pem", [LE]) is None
    assert trapped_lineage("/srv/le/live/a/cert.pem", [LE, "/srv/le"]) == ("a", "live")


def test_classify_sorts_trapped_protected_and_others():
    svc = nginx(ref(f"{LE}/live/a/fullchain.pem"), ref("/etc/nginx/tls/b/fullchain.pem"), ref("/etc/ssl/snakeoil.pem"))
    trapped, protected = classify(svc, [LE], {"/etc/nginx/tls/b/fullchain.pem": "web-b"})
    assert [(t.lineage, t.area) for t in trapped] == [("a", "live")]
    assert protected == [(svc.references[1], "web-b")]


def _trapped(*refs: Reference):
    return classify(nginx(*refs), [LE], {})[0]


def test_separate_files_follow_the_parts_the_service_reads_and_parse():
    trapped = _trapped(ref(f"{LE}/live/a/fullchain.pem"), ref(f"{LE}/archive/a/privkey3.pem", "ssl_certificate_key"))
    p = propose(nginx(), "a", trapped, pins=[PIN], reuse_key=True)
    assert 'service = "nginx"' in p.target and f'pins = ["{PIN}"]' in p.target and "RFC 7469" in p.target
    assert p.changes == (
        "/etc/nginx/sites-enabled/x:3: ssl_certificate /etc/nginx/tls/a/fullchain.pem   # was /etc/letsencrypt/live/a/fullchain.pem",
        "/etc/nginx/sites-enabled/x:3: ssl_certificate_key /etc/nginx/tls/a/privkey.pem   # was /etc/letsencrypt/archive/a/privkey3.pem",
    )
    t = parse_config(p.target).targets[0]
    assert t.name == "nginx-a" and t.pins == (PIN,) and t.service == "nginx"
    assert [(f.path, f.content, f.mode) for f in t.files] == [
        ("/etc/nginx/tls/a/fullchain.pem", ("fullchain",), 0o644), ("/etc/nginx/tls/a/privkey.pem", ("privkey",), 0o600)]


def test_without_reuse_key_the_pin_is_only_suggested():
    p = propose(nginx(), "a", _trapped(ref(f"{LE}/live/a/fullchain.pem")), pins=[PIN], reuse_key=False)
    assert f'# pins = ["{PIN}"]' in p.target and "--reuse-key" in p.target
    assert parse_config(p.target).targets[0].pins == ()


def test_haproxy_gets_one_combined_file_and_its_pidfile():
    svc = ServiceConfig("haproxy", "/srv/h/haproxy.cfg", False,
                        (ref(f"{LE}/live/a/fullchain.pem", "crt", "haproxy"),), pidfile="/srv/h/h.pid")
    trapped = classify(svc, [LE], {})[0]
    p = propose(svc, "a", trapped, pins=[], reuse_key=False, connect="127.0.0.1:8443")
    t = parse_config(p.target).targets[0]
    assert [(f.path, f.content) for f in t.files] == [("/srv/h/tls/a/combined.pem", ("fullchain", "privkey"))]
    assert t.reload[-1] == "/srv/h/h.pid" and t.probe is not None and t.probe.port == 8443
    assert p.changes[0].split(": ", 1)[1].startswith("crt /srv/h/tls/a/combined.pem")


def test_mail_and_ldap_changes_are_written_in_each_services_own_terms():
    post = ServiceConfig("postfix", "/etc/postfix", True, ())
    p = propose(post, "a", classify(ServiceConfig("postfix", "/etc/postfix", True, (
        Reference("postfix", "smtpd_tls_cert_file", f"{LE}/live/a/fullchain.pem", "/etc/postfix/main.cf"),)),
        [LE], {})[0], pins=[], reuse_key=False)
    assert p.changes[0].startswith("postconf -c /etc/postfix -e 'smtpd_tls_cert_file = /etc/postfix/tls/a/fullchain.pem'")
    slapd = ServiceConfig("slapd", "/etc/ldap/slapd.d", True, (
        Reference("slapd", "olcTLSCertificateKeyFile", f"{LE}/live/a/privkey.pem", "/etc/ldap/slapd.d"),))
    p = propose(slapd, "a", classify(slapd, [LE], {})[0], pins=[], reuse_key=False)
    assert 'acl_read = ["openldap"]' in p.target and "/etc/ldap/tls/a/privkey.pem" in p.changes[0]
    assert "olcTLSCertificateKeyFile: /etc/ldap/tls/a/privkey.pem" in p.changes[0]


def test_nothing_found_proposes_the_presets_usual_layout():
    p = propose(ServiceConfig("dovecot", "/etc/dovecot/dovecot.conf", True), "a", [], pins=[], reuse_key=False)
    t = parse_config(p.target).targets[0]
    assert [f.path for f in t.files] == ["/etc/dovecot/tls/a/fullchain.pem", "/etc/dovecot/tls/a/privkey.pem"]
    assert p.changes == ()


def test_postgresql_files_stay_out_of_the_directory_postgres_owns():
    from certbot_safedeploy.config.service_presets import PRESETS, Instance

    assert PRESETS["postgresql"].tls_dir(Instance(), "a") == "/etc/postgresql-common/tls/a"
    assert PRESETS["postgresql"].tls_dir(Instance("/srv/pg/postgresql.conf"), "a") == "/srv/pg/tls/a"
