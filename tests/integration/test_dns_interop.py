"""dns-01 on Knot DNS and PowerDNS: the plugin and the manual hooks, one server and across two.

Real certbot against pebble, whose resolver is unbound with stub zones for the
Knot and PowerDNS zones (see interopbed.py).
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Iterator

import pytest

from .acmebed import Certbot
from .interopbed import CNAME_TARGET, InteropBed, start_interop_bed
from .test_plugin_e2e import assert_issued, challenges_used, ok

REPO = Path(__file__).resolve().parents[2]
FLAVOURS = ("knot", "pdns")


@pytest.fixture(scope="module")
def interop(tmp_path_factory: pytest.TempPathFactory, private_netns: None) -> Iterator[InteropBed]:
    bed = start_interop_bed(tmp_path_factory.mktemp("interop"))
    yield bed
    bed.stop()


@pytest.fixture
def certbot(interop: InteropBed, tmp_path: Path) -> Certbot:
    return Certbot(tmp_path / "certbot", interop.pebble)


@pytest.fixture
def config(interop: InteropBed, tmp_path: Path) -> Path:
    return interop.config(tmp_path / "safedeploy.toml", tmp_path / "state")


def plugin(config: Path) -> list[str]:
    return ["-a", "safedeploy", "--safedeploy-config", str(config)]


def manual(config: Path) -> tuple[list[str], dict[str, str]]:
    hooks = [f"{sys.executable} {REPO / 'hooks' / ('manual-' + k)}" for k in ("auth", "cleanup")]
    return (["--manual", "--preferred-challenges", "dns", "--manual-auth-hook", hooks[0],
             "--manual-cleanup-hook", hooks[1]], {"SAFEDEPLOY_CONFIG": str(config)})


def nothing_left(interop: InteropBed) -> None:
    """Only the admin's records remain, with their TTL."""
    for bed, zone in ((interop.knot, "knot.test"), (interop.pdns, "pdns.test")):
        assert bed.rrset(f"_acme-challenge.ttl.{zone}") == (300, {"keep"})
        assert bed.txt(f"_acme-challenge.www.{zone}") == set()
    assert interop.knot.txt(CNAME_TARGET) == set()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_plugin_issues_on_each_server_and_keeps_the_ttl_of_an_existing_set(interop, certbot, config, flavour):
    zone = f"{flavour}.test"
    domains = [f"www.{zone}", f"ttl.{zone}"]  # _acme-challenge.ttl.<zone> already holds "keep", TTL 300
    ok(certbot.certonly(domains, *plugin(config)))
    assert_issued(certbot, domains[0], domains)
    assert set(challenges_used(certbot).values()) == {"dns-01"}
    nothing_left(interop)
    renewal = configparser.ConfigParser(interpolation=None)
    renewal.read_string("[top]\n" + (certbot.config_dir / "renewal" / f"www.{zone}.conf").read_text())
    assert renewal["renewalparams"]["safedeploy_config"] == str(config)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_manual_hooks_issue_on_each_server(interop, certbot, config, flavour):
    zone = f"{flavour}.test"
    domains = [zone, f"*.{zone}", f"ttl.{zone}"]
    args, env = manual(config)
    ok(certbot.certonly(domains, *args, env=env))
    assert_issued(certbot, zone, [zone, f"x.{zone}", f"ttl.{zone}"])
    nothing_left(interop)


def test_plugin_options_without_a_config_file(interop, certbot):
    """--safedeploy-nsupdate-server/--tsig-key/--resolver alone, as on certbot's command line."""
    args = ["-a", "safedeploy", "--safedeploy-nsupdate-server", "127.0.0.1", "--safedeploy-dns-port",
            str(interop.pdns.port), "--safedeploy-tsig-key", str(interop.pdns.key_file),
            "--safedeploy-resolver", interop.unbound.address, "--safedeploy-propagation-timeout", "30"]
    ok(certbot.certonly(["www.pdns.test"], *args))
    assert_issued(certbot, "www.pdns.test", ["www.pdns.test"])
    renewal = (certbot.config_dir / "renewal" / "www.pdns.test.conf").read_text()
    assert f"safedeploy_resolver = {interop.unbound.address}" in renewal
    nothing_left(interop)


MULTI = ["www.knot.test", "www.pdns.test", "alias.pdns.test"]


def test_one_certificate_across_two_servers_with_a_cname_into_the_other(interop, certbot, tmp_path):
    """www.knot.test on Knot (knot-key), www.pdns.test on PowerDNS (pdns-key, reached by its SOA
    MNAME through unbound), alias.pdns.test CNAMEd into Knot's zone."""
    config = interop.config(tmp_path / "multi.toml", tmp_path / "state", pdns_by_mname=True)
    ok(certbot.certonly(MULTI, *plugin(config)))
    assert_issued(certbot, MULTI[0], MULTI)
    log = certbot.log_text()
    # one wait over both zones, naming each server and its time
    assert "zone knot.test: ns1.knot.test (127.0.0.1 port %d)" % interop.knot.port in log
    assert "zone pdns.test: ns1.pdns.test (127.0.0.1 port %d)" % interop.pdns.port in log
    nothing_left(interop)
    # renewal repeats it from the saved options alone
    ok(certbot.run("renew", "--force-renewal", "--cert-name", MULTI[0]))
    assert (certbot.config_dir / "archive" / MULTI[0] / "cert2.pem").exists()
    nothing_left(interop)


def test_one_certificate_across_two_servers_with_the_manual_hooks(interop, certbot, tmp_path):
    config = interop.config(tmp_path / "multi.toml", tmp_path / "state")
    args, env = manual(config)
    ok(certbot.certonly(MULTI, *args, env=env))
    assert_issued(certbot, MULTI[0], MULTI)
    nothing_left(interop)
