"""Server errors on Knot DNS and PowerDNS: one line each, never a traceback, a fix for that server.

Per server: a wrong secret, an unknown key, and a key the server knows but does
not allow for the zone; through the plugin (certbot) and through the manual hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from .acmebed import Certbot
from .authbed import write_key_file
from .interopbed import InteropBed, start_interop_bed

REPO = Path(__file__).resolve().parents[2]

# (flavour, case) -> (name to validate, what the line must say, what the fix must name)
CASES = {
    ("knot", "wrong-secret"): ("www.knot.test", "BADSIG", "secret"),
    ("knot", "unknown-key"): ("www.knot.test", "NOTAUTH/BADKEY", "acl: of zone knot.test"),
    ("knot", "not-allowed"): ("www.locked.knot.test", "NOTAUTH/BADKEY", "acl: of zone locked.knot.test"),
    ("pdns", "wrong-secret"): ("www.pdns.test", "UNSIGNED REFUSED", "TSIG-ALLOW-DNSUPDATE"),
    ("pdns", "unknown-key"): ("www.pdns.test", "UNSIGNED REFUSED",
                              "pdnsutil import-tsig-key nobody-knows-me. hmac-sha256 SECRET"),
    ("pdns", "not-allowed"): ("www.locked.pdns.test", "REFUSED the update (key pdns-key is not allowed",
                              "pdnsutil set-meta locked.pdns.test TSIG-ALLOW-DNSUPDATE pdns-key."),
}


@pytest.fixture(scope="module")
def interop(tmp_path_factory: pytest.TempPathFactory, private_netns: None) -> Iterator[InteropBed]:
    bed = start_interop_bed(tmp_path_factory.mktemp("interop-errors"))
    yield bed
    bed.stop()


def bad_config(interop: InteropBed, tmp_path: Path, flavour: str, case: str) -> Path:
    bed = interop.bed(flavour)
    key = bed.key_file
    if case == "wrong-secret":
        key = tmp_path / "wrong.key"
        write_key_file(key, bed.key_name)  # right name, new random secret
    elif case == "unknown-key":
        key = tmp_path / "unknown.key"
        write_key_file(key, "nobody-knows-me", bed.secret)
    keys = {f"{flavour}_key": key}
    return interop.config(tmp_path / "safedeploy.toml", tmp_path / "state", **keys)


def assert_one_line(text: str, name: str, says: str, fix: str, flavour: str) -> str:
    assert "Traceback" not in text and "FormError" not in text and "An unexpected error" not in text, text
    [line] = [l for l in text.splitlines() if says in l]
    server = {"knot": "(Knot DNS)", "pdns": "(PowerDNS)"}[flavour]
    assert server in line and f"fix: " in line and fix in line, line
    other = {"knot": "TSIG-ALLOW-DNSUPDATE", "pdns": "acl:"}[flavour]
    assert other not in line and "update-policy" not in line, line  # only the server that answered
    return line


@pytest.mark.parametrize("flavour,case", sorted(CASES))
def test_manual_hook_reports_one_line(interop, tmp_path, flavour, case):
    name, says, fix = CASES[(flavour, case)]
    config = bad_config(interop, tmp_path, flavour, case)
    env = dict(os.environ, SAFEDEPLOY_CONFIG=str(config), CERTBOT_DOMAIN=name,
               CERTBOT_VALIDATION="v-" + case, CERTBOT_REMAINING_CHALLENGES="0")
    proc = subprocess.run([sys.executable, str(REPO / "hooks" / "manual-auth")], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 1
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"safedeploy manual-auth for {name} failed: ")
    assert_one_line(lines[0], name, says, fix, flavour)
    assert interop.bed(flavour).txt(f"_acme-challenge.{name}") == set()


@pytest.mark.parametrize("flavour,case", sorted(CASES))
def test_plugin_reports_one_line(interop, tmp_path, flavour, case):
    name, says, fix = CASES[(flavour, case)]
    config = bad_config(interop, tmp_path, flavour, case)
    certbot = Certbot(tmp_path / "certbot", interop.pebble)
    proc = certbot.certonly([name], "-a", "safedeploy", "--safedeploy-config", str(config))
    assert proc.returncode != 0
    line = assert_one_line(proc.stderr, name, says, fix, flavour)
    assert line.startswith("safedeploy: update of zone")
    assert interop.bed(flavour).txt(f"_acme-challenge.{name}") == set()


def test_unreachable_update_server_is_one_line(interop, tmp_path):
    config = tmp_path / "safedeploy.toml"
    interop.config(config, tmp_path / "state")
    closed = interop.knot.port  # TCP on a port where nothing listens: Knot's port on another address
    config.write_text(config.read_text().replace(f'"127.0.0.1:{closed}"', f'"127.0.0.3:{closed}"'))
    env = dict(os.environ, SAFEDEPLOY_CONFIG=str(config), CERTBOT_DOMAIN="www.knot.test",
               CERTBOT_VALIDATION="v", CERTBOT_REMAINING_CHALLENGES="0")
    proc = subprocess.run([sys.executable, str(REPO / "hooks" / "manual-auth")], capture_output=True, text=True,
                          env=env, timeout=60)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "127.0.0.3" in lines[0] and "fix:" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name,says", [
    ("loop.pdns.test", "CNAME loop at _acme-challenge.loop.pdns.test -> _acme-challenge.loop.knot.test -> "
                       "_acme-challenge.loop.pdns.test"),
    ("dangling.pdns.test", "dangling CNAME: _acme-challenge.dangling.pdns.test -> x.nowhere.test ends in"),
])
def test_cname_loops_and_dangling_targets_are_one_line(interop, tmp_path, name, says):
    config = interop.config(tmp_path / "safedeploy.toml", tmp_path / "state", pdns_by_mname=True)
    env = dict(os.environ, SAFEDEPLOY_CONFIG=str(config), CERTBOT_DOMAIN=name, CERTBOT_VALIDATION="v",
               CERTBOT_REMAINING_CHALLENGES="0")
    proc = subprocess.run([sys.executable, str(REPO / "hooks" / "manual-auth")], capture_output=True, text=True,
                          env=env, timeout=60)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert says in lines[0] and "(fix: " in lines[0]
