"""certbot -a safedeploy against real pebble + BIND (lagging secondary) + nginx."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
from pathlib import Path

import pytest

from certbot_safedeploy.material.lineage import read_lineage
from certbot_safedeploy.material.trust import load_trust_store
from certbot_safedeploy.verify.lineagecheck import verify_lineage

from .acmebed import EAB_HMAC, EAB_KID, Certbot

REPO = Path(__file__).resolve().parents[2]
CERTBOT21 = REPO / ".venv-certbot21" / "bin" / "certbot"


def assert_issued(certbot: Certbot, name: str, domains: list[str]) -> int:
    """The lineage chains to pebble's issuing root and covers the names; returns the serial."""
    trust = load_trust_store([str(certbot.pebble.issuing_roots())])
    report, material = verify_lineage(read_lineage(str(certbot.live(name))), trust=trust, domains=domains)
    assert report.ok, [f.line() for f in report.errors]
    assert material is not None
    return int(material.leaf.serial_number)


def ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


def challenges_used(certbot: Certbot) -> dict[str, str]:
    """name -> challenge type, from certbot's log (old and >= 5.x wording)."""
    found = re.findall(r"(http-01|dns-01) challenge for (?:Identifier\(.*?value=')?([^\s')]+)",
                       certbot.log_text())
    return {name: kind for kind, name in found}


def challenge_types(certbot: Certbot) -> set[str]:
    return set(challenges_used(certbot).values())


def no_tokens_left(webroot: Path) -> bool:
    return not (webroot / ".well-known").exists()


def test_http01_via_webroot(acme, certbot):
    domains = ["web.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)},
                                                   dns=False)))
    assert_issued(certbot, "web.example.test", domains)
    assert challenge_types(certbot) == {"http-01"}
    assert no_tokens_left(acme.webroot)


def test_wildcard_and_apex_share_one_name_via_dns01(acme, certbot):
    domains = ["example.test", "*.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args()))
    assert_issued(certbot, "example.test", ["example.test", "x.example.test"])
    assert challenge_types(certbot) == {"dns-01"}
    # both values went to one name; cleanup deleted exactly those two and kept the admin's record
    assert acme.dns.txt("_acme-challenge.example.test") == {"keep-me"}


def test_mixed_webroot_and_dns_in_one_certificate(acme, certbot):
    domains = ["web2.example.test", "mixed.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args(webroot_map={"web2.example.test": str(acme.webroot)})))
    assert_issued(certbot, "web2.example.test", domains)
    assert challenges_used(certbot) == {"web2.example.test": "http-01", "mixed.example.test": "dns-01"}
    assert no_tokens_left(acme.webroot)


def test_cname_delegated_name(acme, certbot):
    domains = ["cname.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args()))
    assert_issued(certbot, "cname.example.test", domains)
    assert acme.dns.txt("_acme-challenge.cname.delegate.test") == set()


def test_secondary_lag_fails_a_fixed_wait_but_not_us(acme, certbot, tmp_path):
    """certbot-dns-rfc2136 with a 1 s wait answers before ns2 has the record: pebble fails it."""
    creds = tmp_path / "rfc2136.ini"
    key_text = acme.dns.key_file.read_text()
    secret = re.search(r'secret "([^"]+)"', key_text).group(1)
    creds.write_text(f"dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = {acme.dns.port}\n"
                     f"dns_rfc2136_name = acme-key\ndns_rfc2136_secret = {secret}\n"
                     "dns_rfc2136_algorithm = HMAC-SHA256\n")
    creds.chmod(0o600)
    naive = certbot.certonly(["www.example.test"], "-a", "dns-rfc2136", "--dns-rfc2136-credentials",
                             str(creds), "--dns-rfc2136-propagation-seconds", "1", name="naive")
    assert naive.returncode != 0
    # pebble asked the lagging secondary and found nothing there yet
    assert "Error retrieving TXT records for DNS challenge" in certbot.log_text()
    ok(certbot.certonly(["www.example.test"], *acme.plugin_args(), name="ours"))
    assert_issued(certbot, "ours", ["www.example.test"])


def test_renew_uses_only_the_saved_renewal_config(acme, certbot):
    domains = ["web.example.test", "*.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)}),
                        name="renewme"))
    first = assert_issued(certbot, "renewme", domains)
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string("[top]\n" + (certbot.config_dir / "renewal" / "renewme.conf").read_text())
    params = conf["renewalparams"]
    assert params["authenticator"] == "safedeploy"
    assert params["safedeploy_webroot_map"] == '{"web.example.test": "%s"}' % acme.webroot
    assert params["safedeploy_dns_port"] == str(acme.dns.port)
    ok(certbot.run("renew", "--force-renewal", "--cert-name", "renewme"))
    assert assert_issued(certbot, "renewme", domains) != first
    assert (certbot.config_dir / "archive" / "renewme" / "cert2.pem").exists()


def test_account_with_external_account_binding(acme_eab, tmp_path):
    certbot = Certbot(tmp_path / "eab", acme_eab.pebble)
    refused = certbot.certonly(["web.example.test"], *acme_eab.plugin_args())
    assert refused.returncode != 0  # no EAB: the CA refuses the account
    ok(certbot.run("register", "--eab-kid", EAB_KID, "--eab-hmac-key", EAB_HMAC))
    ok(certbot.certonly(["www.example.test"], *acme_eab.plugin_args()))
    assert_issued(certbot, "www.example.test", ["www.example.test"])


def test_unserved_webroot_stops_before_the_ca_validates(acme, certbot, tmp_path):
    elsewhere = tmp_path / "not-served"
    elsewhere.mkdir()
    pebble_log_before = acme.pebble.log.read_text()
    proc = certbot.certonly(["bad.example.test"],
                            *acme.plugin_args(webroot_map={"bad.example.test": str(elsewhere)}, dns=False))
    assert proc.returncode != 0
    out = proc.stderr + certbot.log_text()
    assert "self-check for bad.example.test failed before asking the CA" in out
    assert "HTTP 404" in out and str(elsewhere) in out
    new_pebble_log = acme.pebble.log.read_text()[len(pebble_log_before):]
    assert "bad.example.test" not in "".join(
        line for line in new_pebble_log.splitlines() if "alidat" in line or "Pulled a task" in line)
    assert re.search(r"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1\" 404",
                     acme.nginx.access_log.read_text())
    assert not (elsewhere / ".well-known").exists()


def test_wrong_tsig_key_is_reported_and_leaves_nothing(acme, certbot, tmp_path):
    wrong = tmp_path / "wrong.key"
    subprocess.run(["tsig-keygen", "-a", "hmac-sha256", "acme-key"], check=True, stdout=open(wrong, "w"))
    proc = certbot.certonly(["www.example.test"], *acme.plugin_args(key_file=wrong), name="wrongkey")
    assert proc.returncode != 0
    assert "BADSIG" in proc.stderr + certbot.log_text()
    assert acme.dns.txt("_acme-challenge.www.example.test") == set()


def test_zone_refusing_updates_is_reported_and_leaves_nothing(acme, certbot):
    proc = certbot.certonly(["host.locked.test"], *acme.plugin_args())
    assert proc.returncode != 0
    assert "REFUSED" in proc.stderr + certbot.log_text()
    assert acme.dns.txt("_acme-challenge.host.locked.test") == set()


def test_certbot_2_1_issues_with_the_plugin(acme, tmp_path):
    assert CERTBOT21.exists(), "scripts/setup creates .venv-certbot21"
    certbot = Certbot(tmp_path / "c21", acme.pebble, executable=str(CERTBOT21))
    version = subprocess.run([str(CERTBOT21), "--version"], capture_output=True, text=True)
    assert "certbot 2.1.0" in version.stdout + version.stderr
    domains = ["web.example.test", "*.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)})))
    assert_issued(certbot, "web.example.test", domains)


def test_preferred_challenges_is_honoured_for_a_name_with_both(acme, certbot):
    domains = ["web.example.test"]
    ok(certbot.certonly(domains, "--preferred-challenges", "dns",
                        *acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)})))
    assert challenges_used(certbot) == {"web.example.test": "dns-01"}


def test_refused_zone_undoes_the_zones_already_updated(acme, certbot):
    # example.test accepts the update, locked.test refuses it: nothing may stay in example.test
    proc = certbot.certonly(["www.example.test", "host.locked.test"], *acme.plugin_args(), name="partial")
    assert proc.returncode != 0 and "REFUSED" in proc.stderr + certbot.log_text()
    assert acme.dns.txt("_acme-challenge.www.example.test") == set()


def wait_secondary_in_sync(acme, timeout: float = 15.0) -> None:
    """Until ns2 has ns1's serial: then no transfer is in flight, and the next change reaches
    ns2 at least SECONDARY_LAG (2 s) later (an in-flight transfer would carry it sooner)."""
    import time

    import dns.message
    import dns.query

    def serial(address: str) -> int:
        r = dns.query.udp(dns.message.make_query("example.test", "SOA"), address, port=acme.dns.port, timeout=2)
        return int(r.answer[0][0].serial)

    deadline = time.monotonic() + timeout
    while serial("127.0.0.1") != serial("127.0.0.2"):
        assert time.monotonic() < deadline, "the secondary does not catch up"
        time.sleep(0.1)


def test_the_wait_names_the_lagging_secondary_and_its_time(acme, certbot):
    """ns2 gets every change at least SECONDARY_LAG (2 s) late: the log says it waited for ns2, and how long."""
    ok(certbot.run("register"))
    wait_secondary_in_sync(acme)
    ok(certbot.certonly(["www.example.test"], *acme.plugin_args(), name="lag"))
    log = certbot.log_text()
    port = acme.dns.port
    assert (f"waiting until every authoritative server serves the TXT records: zone example.test: "
            f"ns1.example.test (127.0.0.1 port {port}), ns2.example.test (127.0.0.2 port {port})") in log
    found = re.search(rf"ns2\.example\.test \(127\.0\.0\.2 port {port}\) (\d+\.\d) s", log)
    assert found and 2.0 <= float(found.group(1)) < 30, log[-3000:]
    fast = re.search(rf"ns1\.example\.test \(127\.0\.0\.1 port {port}\) (\d+\.\d) s", log)
    assert fast and float(fast.group(1)) < 1.0


def test_names_sharing_one_webroot_leave_no_directory(acme, certbot):
    domains = ["web.example.test", "web2.example.test", "www.example.test"]
    ok(certbot.certonly(domains, *acme.plugin_args(webroot_map={",".join(domains): str(acme.webroot)},
                                                   dns=False), name="shared"))
    assert challenge_types(certbot) == {"http-01"}
    assert no_tokens_left(acme.webroot)
