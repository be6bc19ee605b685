"""One regression test per crash class issue 22 lists, and per class the fuzz suite found beyond them.

Each test feeds the exact shape that crashed (a Python traceback) and requires the
project's own one-line error, or a finding, instead.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.rrset
import pytest
from cryptography import x509

from certbot_safedeploy.errors import ChallengeError, ConfigError, SafeDeployError
from tests.fuzz import seeds
from tests.fuzz.peers import ScriptChannel, StubDns

REPO = Path(__file__).resolve().parents[2]


def _bad_version(der: bytes) -> bytes:
    """The certificate with version field 6 (cryptography raises InvalidVersion, not ValueError)."""
    assert b"\xa0\x03\x02\x01\x02" in der
    return der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x05", 1)


def _pem(der: bytes, label: str = "CERTIFICATE") -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode()


def _unknown_curve(der: bytes) -> bytes:
    """The certificate with its key on a curve nobody knows: parses, but public_key() refuses."""
    prime256v1 = bytes.fromhex("06082a8648ce3d030107")
    assert prime256v1 in der
    return der.replace(prime256v1, bytes.fromhex("06082a8648ce3d03017f"), 1)


# -- pins FILE (material/keyfiles.py) ------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "flipped", "bad_version", "csr_truncated", "unknown_curve"])
def test_pins_on_a_damaged_certificate_or_csr_is_one_error(tmp_path, damage):
    from certbot_safedeploy.material.keyfiles import pins_of_file

    s = seeds.pki()
    der = s["leaf_der"]
    data = {"truncated": _pem(der[:200]), "flipped": _pem(der[:50] + b"\xff" + der[51:]),
            "bad_version": _pem(_bad_version(der)), "unknown_curve": _pem(_unknown_curve(der)),
            "csr_truncated": _pem(x509.load_pem_x509_csr(s["csr"]).public_bytes(
                __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)[:90],
                "CERTIFICATE REQUEST")}[damage]
    path = tmp_path / "x.pem"
    path.write_bytes(data)
    with pytest.raises(SafeDeployError) as err:
        pins_of_file(str(path))
    assert str(path) in str(err.value)


# -- the TOML config ---------------------------------------------------------------------------------------
def test_deeply_nested_config_is_a_config_error_with_a_line():
    from certbot_safedeploy.config.load import parse_config

    for value in ("[" * 5000 + "]" * 5000, "{a=" * 3000 + "1" + "}" * 3000):
        with pytest.raises(ConfigError) as err:
            parse_config(f"backups = 1\ndeep = {value}\n", "c.toml")
        assert "c.toml:2" in str(err.value) and "nest" in str(err.value)


def test_nesting_inside_strings_and_comments_is_not_counted():
    from certbot_safedeploy.config.tomldepth import nesting_depth

    assert nesting_depth('a = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["  # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n')[0] == 0
    assert nesting_depth("a = '''\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n'''\nb = [[1]]\n") == (2, 4)


def test_config_that_is_not_utf8_is_a_config_error(tmp_path):
    from certbot_safedeploy.config.load import load_config

    path = tmp_path / "c.toml"
    path.write_bytes(b'state_dir = "/var/lib/\xff"\n')
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert "not UTF-8" in str(err.value) and "0xff" in str(err.value)


@pytest.mark.parametrize("key,value", [("owner", "²"), ("group", "١٢"), ("owner", "root\n"), ("mode", "0²44"),
                                       ("mode", "0٦44"), ("group", "K")])  # Kelvin sign: [a-z] under re.I
def test_non_ascii_digits_in_owner_group_mode_are_config_errors(key, value):
    from certbot_safedeploy.config.load import parse_config

    text = f'''[[target]]
name = "web"
lineage = "example.com"
files = [ {{ path = "/etc/tls/site.crt", content = ["fullchain"], {key} = {json.dumps(value)} }} ]
'''
    with pytest.raises(ConfigError):
        parse_config(text, "c.toml")


def test_toml_integer_of_5000_digits_is_a_config_error():  # found by the fuzz suite
    from certbot_safedeploy.config.load import parse_config

    with pytest.raises(ConfigError):
        parse_config("backups = " + "9" * 5000 + "\n", "c.toml")


def test_uid_of_takes_ascii_digits_only():
    from certbot_safedeploy.errors import InstallError
    from certbot_safedeploy.system.fsutil import uid_of

    assert uid_of("0") == 0
    for bad in ("²", "٣", "a\x00b", "9" * 30):
        with pytest.raises(InstallError):
            uid_of(bad)


# -- doctor on a damaged renewal config ---------------------------------------------------------------------
@pytest.mark.parametrize("window", ["²² days", "٣٠ days", "9" * 5000 + " days", "99999999999999999999 weeks", "1e9"])
def test_renewal_window_with_odd_digits_or_huge_values(window):
    from certbot_safedeploy.material.renewalconf import RenewalConf, renew_window_days

    conf = RenewalConf("x", "x.conf", {"renew_before_expiry": window}, {}, {})
    assert renew_window_days(conf, 90.0) == 30.0


def test_doctor_on_renewal_config_with_nul_paths_and_huge_windows(tmp_path):
    from certbot_safedeploy.doctor.checks import run_checks
    from certbot_safedeploy.doctor.snapshot import take_snapshot

    (tmp_path / "renewal").mkdir()
    (tmp_path / "renewal" / "x.conf").write_text(f"cert = /a\x00b\nrenew_before_expiry = {'9' * 400} weeks\n")
    run_checks(take_snapshot(str(tmp_path), system_root=str(tmp_path)), [], "c.toml")


# -- the manual hooks ---------------------------------------------------------------------------------------
def _hook_config(tmp_path: Path):
    from certbot_safedeploy.config.load import parse_config

    (tmp_path / "www").mkdir(exist_ok=True)
    return parse_config(f'''state_dir = "{tmp_path / 'state'}"
[challenge]
webroot_map = {{ "example.com" = "{tmp_path / 'www'}" }}
self_check = "off"
''', "c.toml")


@pytest.mark.parametrize("env", [
    {"CERTBOT_REMAINING_CHALLENGES": "²"}, {"CERTBOT_REMAINING_CHALLENGES": "٣"},
    {"CERTBOT_REMAINING_CHALLENGES": "9" * 5000}, {"CERTBOT_DOMAIN": "a" * 64 + ".example.com"},
    {"CERTBOT_DOMAIN": "example.com\n.evil"}, {"CERTBOT_TOKEN": "tok\n"}, {"CERTBOT_DOMAIN": "é" * 100000},
    {"CERTBOT_VALIDATION": "a..b"}])
def test_hostile_certbot_values_are_challenge_errors(tmp_path, env):
    from certbot_safedeploy.hooks import manual_auth

    base = {"CERTBOT_DOMAIN": "example.com", "CERTBOT_VALIDATION": "tok.thumb", "CERTBOT_TOKEN": "tok",
            "CERTBOT_REMAINING_CHALLENGES": "1"}
    with pytest.raises(ChallengeError):
        manual_auth({**base, **env}, _hook_config(tmp_path))
    assert not list((tmp_path / "www").rglob("tok*"))


@pytest.mark.parametrize("state", [b"{not json", b"[1, 2]", b'{"a": 5}', b'{"a": {"kind": "http-01", "created": "x"}}',
                                   b'{"a": {"kind": "dns-01", "created": 1, "record": []}}', b"\xff\xfe",
                                   b"[" * 100000, b'{"a": {"kind": "http-01", "created": 1, "path": 7}}'])
def test_a_corrupt_manual_state_is_set_aside_and_auth_and_cleanup_go_on(tmp_path, state, capsys):
    from certbot_safedeploy.hooks import manual_auth, manual_cleanup

    config = _hook_config(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "manual-state.json").write_bytes(state)
    env = {"CERTBOT_DOMAIN": "example.com", "CERTBOT_VALIDATION": "tok.thumb", "CERTBOT_TOKEN": "tok"}
    entry = manual_auth(env, config)
    assert (tmp_path / "www" / ".well-known" / "acme-challenge" / "tok").exists()
    manual_cleanup({**env, "CERTBOT_AUTH_OUTPUT": entry}, config)
    assert not (tmp_path / "www" / ".well-known" / "acme-challenge" / "tok").exists()
    aside = list((tmp_path / "state").glob("manual-state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == state
    assert "moved to" in capsys.readouterr().err
    manual_cleanup({**env, "CERTBOT_AUTH_OUTPUT": entry}, config)  # a second cleanup: nothing left, no error


# -- served certificates, STARTTLS, TLS ---------------------------------------------------------------------
def test_served_certificate_with_an_invalid_version_is_a_finding():
    from certbot_safedeploy.deploy.connectcheck import _describe_sent
    from certbot_safedeploy.verify.served import judge_served
    from tests.fuzz.targets import NOW, trust

    bad = _bad_version(seeds.pki()["leaf_der"])
    verdict = judge_served(bad, [bad], trust(), servername="example.com", now=NOW, where="x:443")
    assert not verdict.ok and "parsable" in verdict.summary()
    assert _describe_sent([bad]) == ["(unparsable)"]


def test_lineage_with_an_invalid_version_is_a_finding(tmp_path):
    from tests.fuzz.targets import run_lineage

    s = seeds.pki()
    bad = _pem(_bad_version(s["leaf_der"]))
    run_lineage([bad, s["intermediate"], bad + s["intermediate"], s["leaf_key"]], tmp_path)


def test_pins_check_on_a_key_nobody_can_read_is_a_finding():
    from certbot_safedeploy.verify.pincheck import check_pins

    cert = x509.load_der_x509_certificate(_unknown_curve(seeds.pki()["leaf_der"]))
    findings = check_pins([cert], ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "x.pem")
    assert findings[0].severity.value == "error" and "unreadable" in findings[0].message


@pytest.mark.parametrize("protocol,chunks", [
    ("smtp", [b"\xc2\xb2\xc2\xb2\xe2\x81\xb0 ready\r\n"]), ("smtp", ["²²⁰ ready\r\n".encode()]),
    ("ftp", ["٢٢٠ hi\r\n".encode()]), ("smtp", [b"220-x\r\n" * 20000]), ("smtp", [b"x" * 70000]),
    ("xmpp", [b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
              b"<proceed>" * 7000]),
    ("ldap", [b"\x30\x84\xff\xff\xff\xff"]), ("postgres", [b""])])
def test_odd_starttls_replies_are_starttls_errors(protocol, chunks):
    from certbot_safedeploy.deploy.starttls import StartTlsError, negotiate

    started = time.monotonic()
    with pytest.raises(StartTlsError):
        negotiate(protocol, ScriptChannel(chunks), "mail.example.com")
    assert time.monotonic() - started < 2  # the XMPP answer pattern is bounded: no quadratic search


@pytest.mark.parametrize("body,tls13", [(b"\xff\xff\xff", False), (b"\x00\x00\x00\x03\xff\xff\xff", False),
                                        (b"\xff", True), (b"\x00\x00\x00\x05\x00\x00\x01\x00\xff", True)])
def test_huge_or_odd_certificate_message_lengths_are_value_errors(body, tls13):
    from certbot_safedeploy.deploy.tlsclient import parse_certificate_message

    with pytest.raises(ValueError):
        parse_certificate_message(body, tls13)


@pytest.mark.parametrize("host,port", [("127.0.0.1", 70000), ("127.0.0.1", 0), ("127.0.0.1", -1),
                                       ("a" * 300, 443), ("a\x00b", 443), ("..", 443)])
def test_bad_port_or_host_is_an_oserror(host, port):
    from certbot_safedeploy.deploy.tlsclient import fetch

    with pytest.raises(OSError):
        fetch(host, port, "example.com", 1.0)


def test_bad_port_in_config_and_on_the_command_line():
    from certbot_safedeploy.syntax.hostport import split_host_port

    for text in ("h:²²", "h:٤٤٣", "h:99999999999999999999999", "h:0", "[::1]:65536", "h: 443"):
        assert split_host_port(text, 443)[1] is None, text


# -- DNS ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,value", [("a" * 64 + ".example.com", "v"), ("x..example.com", "v"),
                                        ("_acme-challenge.example.com", "v" * 300), ("é" * 300, "v")])
def test_hostile_names_and_values_in_updates_are_challenge_errors(name, value):
    from certbot_safedeploy.challenges.dnsmsg import build_update

    with pytest.raises(ChallengeError):
        build_update("example.com", [(name, value)], None)


@pytest.fixture
def stub():
    server = StubDns()
    yield server
    server.close()


def _reply(qname: str, rdtype: str, *rrsets: dns.rrset.RRset, section: str = "answer") -> bytes:
    response = dns.message.make_response(dns.message.make_query(qname, rdtype))
    getattr(response, section).extend(rrsets)
    return response.to_wire()


def test_answers_of_another_class_are_ignored_not_crashed_on(stub):
    from certbot_safedeploy.challenges.dnsclient import DnsClient
    from certbot_safedeploy.challenges.locate import Locator
    from certbot_safedeploy.config.challenge_section import ChallengeSettings

    stub.reply = _reply("ns1.example.com", "A", dns.rrset.from_text("ns1.example.com.", 60, "CLASS42", "A",
                                                                      r"\# 4 7f000001"))
    locator = Locator(ChallengeSettings(resolver=f"127.0.0.1:{stub.port}"), timeout=1)
    assert locator.addresses("localhost")  # the CH answer is skipped; the host's own lookup answers
    response = dns.message.make_response(dns.message.make_query("example.com", "NS"))
    response.answer.append(dns.rrset.from_text("example.com.", 60, "IN", "NS", "ns1.example.com."))
    response.additional.append(dns.rrset.from_text("ns1.example.com.", 60, "CLASS42", "A", r"\# 4 7f000001"))
    stub.reply = response.to_wire()
    client = DnsClient(f"127.0.0.1:{stub.port}", None, timeout=1)
    assert client.nameservers("example.com") == (["ns1.example.com"], {})


def test_a_dns_server_sending_one_byte_at_a_time_ends_within_the_timeout():
    import socket
    import threading

    from certbot_safedeploy.challenges.dnsclient import DnsClient

    listener = socket.create_server(("127.0.0.1", 0))

    def dribble():
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            for _ in range(40):
                try:
                    conn.sendall(b"\xff")
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=dribble, daemon=True).start()
    client = DnsClient(f"127.0.0.1:{listener.getsockname()[1]}", None, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ChallengeError):
        client.update("example.com", [("_acme-challenge.example.com", "v")])
    assert time.monotonic() - started < 2.5
    listener.close()


def test_unresolvable_or_odd_dns_server_names_are_challenge_errors():
    from certbot_safedeploy.challenges.dnsclient import resolve_host

    for host in ("a" * 64 + ".invalid", "a\x00b", ".."):
        with pytest.raises(ChallengeError):
            resolve_host(host)


# -- files that are not regular files ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fifo", "directory", "dev_zero", "sparse"])
def test_readers_refuse_what_is_not_a_small_regular_file(tmp_path, kind):
    from certbot_safedeploy.material.certfiles import verify_files
    from certbot_safedeploy.material.keyfiles import pins_of_file
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.material.trust import _load_file
    from tests.fuzz.clitrees import _hazard, build_tree
    from tests.fuzz.targets import trust

    import random

    p = build_tree(tmp_path)
    for name in ("archive_cert", "root", "config", "renewal"):
        _hazard(random.Random(1), p[name], kind)
    started = time.monotonic()
    data = read_lineage(str(p["live"]))
    assert "cert.pem" in data.unreadable
    assert verify_files(str(p["live"] / "cert.pem"), None, trust=trust(), domains=[]).errors
    with pytest.raises(SafeDeployError):
        pins_of_file(str(p["live"] / "cert.pem"))
    _load_file.cache_clear()
    with pytest.raises(SafeDeployError):
        _load_file(str(p["root"]))
    from certbot_safedeploy.config.load import load_config

    with pytest.raises(ConfigError):
        load_config(str(p["config"]))
    assert time.monotonic() - started < 5


def test_trust_anchor_dev_zero_on_the_command_line_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "verify", "--cert", "/dev/null",
                           "--trust-anchor", "/dev/zero"], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "character device, not a regular file" in proc.stdout + proc.stderr


# -- the deploy: a bad config still notifies; an exception after install rolls back ---------------------------
def test_a_config_that_crashed_the_parser_is_refused_in_one_line(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("deep = " + "[" * 20000 + "]" * 20000 + "\n")
    config.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "deploy", "--config", str(config),
                           "--lineage", str(tmp_path / "live" / "x")], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert [l for l in proc.stderr.splitlines() if l] == [
        f"refused: {config}:1: values nest more than 32 levels deep (fix: flatten the arrays and inline tables "
        "at the line shown)"]


def test_an_exception_in_a_rename_rolls_back_with_exit_3(bed, monkeypatch):
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy import pipeline
    from certbot_safedeploy.system import fsutil

    assert bed.run().returncode == 0
    before = bed.snapshot()
    bed.issue()
    real, calls = fsutil.commit_file, []

    def second_rename_fails(tmp: str, dest: str) -> None:
        calls.append(dest)
        if len(calls) == 2:
            raise ValueError("a bug between two renames")
        real(tmp, dest)

    monkeypatch.setattr(fsutil, "commit_file", second_rename_fails)
    result = pipeline.deploy(load_config(str(bed.config)), str(bed.live), ["example.com"])
    monkeypatch.setattr(fsutil, "commit_file", real)
    assert result.exit_code == pipeline.ROLLED_BACK, result.lines
    assert bed.snapshot() == before, (calls, result.lines)
    assert any("install failed after live files changed (ValueError" in line for line in result.lines)


def test_an_exception_in_the_probe_rolls_back_with_exit_3(bed, monkeypatch):
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy import pipeline

    bed.write_config('probe = { connect = "127.0.0.1:9", servername = "example.com", timeout = 1 }')
    assert pipeline.deploy(load_config(str(bed.config)), str(bed.live), ["example.com"]).exit_code in (3, 4)
    before = bed.snapshot()
    bed.issue()

    def boom(*args, **kwargs):
        raise ValueError("invalid literal for int() with base 10: '²²⁰'")

    monkeypatch.setattr(pipeline, "probe_until", boom)
    result = pipeline.deploy(load_config(str(bed.config)), str(bed.live), ["example.com"])
    assert result.exit_code in (pipeline.ROLLED_BACK, pipeline.ROLLBACK_FAILED), result.lines
    assert result.exit_code != pipeline.REFUSED
    assert bed.snapshot() == before


# -- found by the fuzz suite and its servers, beyond the issue's list ------------------------------------------
@pytest.mark.parametrize("line", ["safedeploy_http_port = ²", "safedeploy_dns_port = 99999999999",
                                  "safedeploy_webroot_map = [1]", "safedeploy_webroot_map = {not json",
                                  'safedeploy_webroot_map = {"a.com": 5}'])
def test_doctor_live_on_hostile_safedeploy_values_is_a_finding(tmp_path, line):
    from certbot_safedeploy.doctor.live import live_checks
    from certbot_safedeploy.doctor.snapshot import take_snapshot

    (tmp_path / "renewal").mkdir()
    (tmp_path / "renewal" / "x.conf").write_text(f"[renewalparams]\nauthenticator = safedeploy\n{line}\n")
    findings = live_checks(take_snapshot(str(tmp_path), system_root=str(tmp_path)), None)
    findings = [f for f in findings if f.check != "live-ari"]  # the ARI window report (a CA this test has not)
    assert [f.check for f in findings] == ["renewal-conf"] and findings[0].severity.value == "error"


def test_fleet_local_state_with_an_infinite_time_is_unreadable_not_a_crash(tmp_path):
    from certbot_safedeploy.fleet.localstate import LocalFleet

    local = LocalFleet(str(tmp_path))
    directory = tmp_path / "a.example"
    directory.mkdir()
    (directory / "installed.json").write_text('{"serial": "1", "sha256": "x", "probed_at": 1e999}')
    (directory / "retry.json").write_text('{"serial": "1", "sha256": "x", "failures": 1e999, "next_at": 1}')
    assert local.installed("a.example") is None and local.retry("a.example") is None


def test_http_self_check_redirect_to_a_bad_port_is_a_result(tmp_path):
    import threading

    from certbot_safedeploy.challenges.httpcheck import check_served

    listener = __import__("socket").create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 301 Moved\r\nLocation: http://example.com:99999/x\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    [result] = check_served("example.com", "tok", "tok.t", port=listener.getsockname()[1], address="127.0.0.1",
                            timeout=2)
    listener.close()
    assert not result.ok and "port is not a port" in result.detail


def test_status_file_of_the_wrong_shape_is_rewritten_not_crashed_on(tmp_path):
    from certbot_safedeploy.report.status import StatusSettings, record_deploy, render_prometheus

    status = tmp_path / "status.json"
    for body in ("[1]", '{"lineages": [], "targets": 5}', '{"lineages": {"a": 1}, "targets": {"w": {"last_status": "x"}}}'):
        status.write_text(body)
        record_deploy(StatusSettings(file=str(status), prometheus=str(tmp_path / "p.prom")), "a", ["w"], "deployed",
                      0, None)
        assert json.loads(status.read_text())["targets"]["w"]["last_status"] == 0
    assert "last_deploy_status" in render_prometheus({"targets": {"w": {"last_status": float("inf")}, "x": 3}})


def test_csr_with_a_key_algorithm_openssl_does_not_know_is_a_fleet_error():
    """cryptography 3.4.8 (Ubuntu 22.04) raises InternalError from is_signature_valid here."""
    from cryptography.hazmat.primitives import serialization

    from certbot_safedeploy.errors import FleetError
    from certbot_safedeploy.fleet.rules.csr import read_csr

    der = x509.load_pem_x509_csr(seeds.pki()["csr"]).public_bytes(serialization.Encoding.DER)
    ec_public_key = bytes.fromhex("06072a8648ce3d0201")
    assert ec_public_key in der
    with pytest.raises(FleetError):
        read_csr(_pem(der.replace(ec_public_key, bytes.fromhex("06072a8648ce3d027f"), 1), "CERTIFICATE REQUEST"))


def test_megabyte_names_and_values_in_an_update_are_refused_at_once():
    """dnspython 2.1 (Ubuntu 22.04) spends minutes tokenizing a megabyte TXT value."""
    from certbot_safedeploy.challenges.dnsmsg import build_update
    from certbot_safedeploy.hooks import manual_auth

    started = time.monotonic()
    for name, value in (("_acme-challenge.example.com", "a." * 500000), ("a." * 500000 + "com", "v")):
        with pytest.raises(ChallengeError):
            build_update("example.com", [(name, value)], None)
    with pytest.raises(ChallengeError):
        manual_auth({"CERTBOT_DOMAIN": "example.com", "CERTBOT_VALIDATION": "a." * 500000}, _hook_config_none())
    assert time.monotonic() - started < 2


def _hook_config_none():
    from certbot_safedeploy.config.load import parse_config

    return parse_config('state_dir = "/nonexistent/state"\n[challenge]\nnsupdate_server = "127.0.0.1:9"\n', "c.toml")
