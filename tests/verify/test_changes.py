"""The comparison of a deployed leaf with its replacement (verify/changes.py), on generated PKIs."""

import datetime

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from certbot_safedeploy.verify.changes import Setting, TargetContext, compare, difference
from certbot_safedeploy.verify.leaffacts import leaf_facts
from tests.pki import DAY, NOW, Pki

SERVER = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
BOTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
STAPLE = x509.TLSFeature([x509.TLSFeatureType.status_request])
OCSP = x509.AuthorityInformationAccess([x509.AccessDescription(
    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example/"))])
POSTFIX = Setting("postfix", "smtp_tls_cert_file", "/etc/postfix/main.cf:12", "/etc/postfix/tls/x/fullchain.pem")


def facts(pki, *names, extensions=(), **kw):
    issued = pki.leaf(*(names or ("example.com", "www.example.com")), extensions=extensions, **kw)
    return leaf_facts(issued.cert, [pki.intermediate.cert])


def ctx(**kw):
    return TargetContext(target="mail", lineage="example.com", deployed_file="/etc/postfix/tls/x/fullchain.pem", **kw)


def errors(changes):
    return [f for f in changes.findings if f.severity.value == "error"]


def test_unchanged_renewal_has_no_block_and_no_finding():
    pki = Pki.create()
    changes = compare(facts(pki), facts(pki), ctx(), NOW)
    assert changes.block == [] and changes.findings == []


def test_client_use_dropping_client_auth_is_refused_with_setting_days_and_fix():
    pki = Pki.create()
    old = facts(pki, extensions=[(BOTH, False)], end=NOW + 41 * DAY + datetime.timedelta(hours=1))
    new = facts(pki, extensions=[(SERVER, False)])
    changes = compare(old, new, ctx(client_settings=(POSTFIX,)), NOW)
    (err,) = errors(changes)
    line = err.line()
    assert "postfix smtp_tls_cert_file (/etc/postfix/main.cf:12)" in line
    assert "valid for 41 more days" in line and "private CA" in line and "clientAuth" in line
    assert "extended key usage: serverAuth, clientAuth -> serverAuth" in changes.block


def test_declared_client_use_is_refused_too_and_server_only_target_is_not():
    pki = Pki.create()
    old, new = facts(pki, extensions=[(BOTH, False)]), facts(pki)
    assert errors(compare(old, new, ctx(uses=("server", "client")), NOW))
    assert not errors(compare(old, new, ctx(), NOW))


def test_client_auth_kept_or_no_eku_is_accepted():
    pki = Pki.create()
    old = facts(pki, extensions=[(BOTH, False)])
    assert not errors(compare(old, facts(pki, extensions=[(BOTH, False)]), ctx(uses=("server", "client")), NOW))
    no_eku = facts(pki, omit=[x509.ExtendedKeyUsage])
    assert not errors(compare(old, no_eku, ctx(uses=("server", "client")), NOW))


def test_must_staple_without_ocsp_is_refused_and_with_ocsp_accepted():
    pki = Pki.create()
    refused = compare(None, facts(pki, extensions=[(STAPLE, False)]), ctx(), NOW)
    assert "TLS Feature status_request" in errors(refused)[0].message
    assert not errors(compare(None, facts(pki, extensions=[(STAPLE, False), (OCSP, False)]), ctx(), NOW))


def test_stapling_configured_without_ocsp_url_warns_naming_the_setting():
    pki = Pki.create()
    staple = Setting("nginx", "ssl_stapling", "/etc/nginx/sites-enabled/x:7", "on")
    changes = compare(facts(pki, extensions=[(OCSP, False)]), facts(pki), ctx(staple_settings=(staple,)), NOW)
    (warning,) = changes.findings
    assert warning.severity.value == "warning" and warning.file == "/etc/nginx/sites-enabled/x:7"
    assert "turn ssl_stapling off" in warning.fix
    assert "OCSP URL: http://ocsp.example/ -> none" in changes.block
    assert compare(facts(pki), facts(pki, extensions=[(OCSP, False)]), ctx(staple_settings=(staple,)),
                   NOW).findings == []


def test_dropped_name_listed_by_the_service_is_refused_else_warned():
    pki = Pki.create()
    old, new = facts(pki, "example.com", "shop.example.com"), facts(pki, "example.com")
    listed = Setting("nginx", "server_name", "/etc/nginx/sites-enabled/shop:3", "shop.example.com")
    (err,) = errors(compare(old, new, ctx(listed_names=(listed,)), NOW))
    assert "drops shop.example.com" in err.message and "/etc/nginx/sites-enabled/shop:3" in err.message
    changes = compare(old, new, ctx(), NOW)
    assert not errors(changes) and "no longer covers shop.example.com" in changes.findings[0].message
    assert "names: -shop.example.com" in changes.block


def test_name_covered_by_a_new_wildcard_is_not_dropped():
    pki = Pki.create()
    old, new = facts(pki, "example.com", "shop.example.com"), facts(pki, "example.com", "*.example.com")
    listed = Setting("nginx", "server_name", "f:1", "shop.example.com")
    assert compare(old, new, ctx(listed_names=(listed,)), NOW).findings == []


def test_key_change_warns_and_key_types_refuses():
    pki = Pki.create()
    old, new = facts(pki, key_kind="rsa"), facts(pki, key_kind="ec")
    changes = compare(old, new, ctx(), NOW)
    assert "key: RSA 2048 -> ECDSA P-256" in changes.block
    assert [f.severity.value for f in changes.findings] == ["warning"]
    (err,) = errors(compare(old, new, ctx(key_types=("rsa",)), NOW))
    assert "key_types = ['rsa']" in err.message and "--key-type rsa" in err.fix
    assert not errors(compare(old, facts(pki, key_kind="rsa"), ctx(key_types=("rsa",)), NOW))


def test_new_intermediate_warns_naming_both_and_the_pins():
    old_pki, new_pki = Pki.create("Old"), Pki.create("New")
    old, new = facts(old_pki), facts(new_pki)
    changes = compare(old, new, ctx(pins=(old.chain_pins[1], new.chain_pins[1])), NOW)
    (warning,) = changes.findings
    assert "CN=Old Intermediate" in warning.message and "CN=New Intermediate" in warning.message
    assert "pinned the intermediate of the old chain only" in warning.message
    assert "pins the intermediate of the new chain" in warning.message
    assert any(line.startswith("issuer: CN=Old Intermediate -> CN=New Intermediate") for line in changes.block)


def test_lifetime_difference_is_shown():
    pki = Pki.create()
    lines = difference(facts(pki, end=NOW + 89 * DAY), facts(pki, end=NOW + 44 * DAY))
    assert lines == ["lifetime: 90 -> 45 days"]
