"""doctor and adopt against a real nginx configuration (nginx -T; no server is started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from certbot_safedeploy.config.load import load_config
from tests import dovecot
from tests.doctor.conftest import Etc


def _nginx(etc: Etc, cert: str, key: str) -> Path:
    conf = etc.root / "nginx" / "nginx.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(f"pid {etc.root}/n.pid;\nerror_log {etc.root}/e.log;\nevents {{}}\nhttp {{\n access_log off;\n"
                    f" server {{ listen 127.0.0.1:1 ssl;\n  ssl_certificate {cert};\n  ssl_certificate_key {key};\n }}\n}}\n")
    return conf


def _adopt(etc: Etc, conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "adopt", "a.example", "--config-dir",
                           str(etc.le), "--config", str(etc.config), "--system-root", str(etc.root),
                           "--service-config", f"nginx={conf}", *args], capture_output=True, text=True, timeout=60)


def test_doctor_reports_the_live_trap_with_a_target_then_protected(etc):
    live = etc.lineage("a.example")
    conf = _nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem")
    proc = etc.run("--service-config", f"nginx={conf}")
    assert proc.returncode == 1
    line = next(l for l in proc.stdout.splitlines() if "live-trap" in l)
    assert line.startswith(f"ERROR: {conf}:7: live-trap: nginx reads certbot's live/a.example files directly")
    assert f"ssl_certificate {live}/fullchain.pem ({conf}:7)" in line
    assert f"ssl_certificate_key {live}/privkey.pem ({conf}:8)" in line
    assert "[[target]]" in proc.stdout and f"{conf.parent}/tls/a.example/fullchain.pem" in proc.stdout
    # adopt --write, the first deploy's files, and the service's own line changed by hand
    etc.config.write_text("")
    os.chmod(etc.config, 0o600)
    adopted = _adopt(etc, conf, "--write")
    assert adopted.returncode == 0, adopted.stderr
    target = load_config(str(etc.config)).targets[0]
    for f in target.files:
        Path(f.path).write_bytes((live / Path(f.path).name).read_bytes())
    conf.write_text(conf.read_text().replace(str(live), str(conf.parent / "tls" / "a.example")))
    findings = etc.findings("--service-config", f"nginx={conf}")
    traps = [f for f in findings if f[1] == "live-trap"]
    assert [f[0] for f in traps] == ["ok", "ok"] and "installed by target 'nginx-a.example'" in traps[0][2]


def test_doctor_never_reads_the_machines_own_service_configs(etc):
    etc.lineage("a.example")
    assert not [f for f in etc.findings() if f[1] == "live-trap"]  # system root is the test's temp dir


def test_unreadable_service_config_is_a_warning_naming_the_option(etc, tmp_path):
    etc.lineage("a.example")
    empty = tmp_path / "not-postfix"
    empty.mkdir()
    traps = [f for f in etc.findings("--service-config", f"postfix={empty}") if f[1] == "live-trap"]
    assert traps[0][0] == "warning" and "cannot read postfix's configuration" in traps[0][2]


def test_trap_is_found_even_after_live_broke(etc):
    """A 0-byte certificate in live/ fails nginx -T too; doctor then reads the files nginx would."""
    live = etc.lineage("a.example")
    conf = _nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem")
    (conf.parent / "sites").mkdir()
    conf.write_text(conf.read_text().replace(" server {", " include sites/*.conf;\n server {"))
    (conf.parent / "sites" / "b.conf").write_text(f"server {{ ssl_certificate {live}/cert.pem; }}\n")
    (etc.le / "archive" / "a.example" / "fullchain1.pem").write_bytes(b"")
    proc = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True)
    assert proc.returncode != 0
    traps = [f for f in etc.findings("--service-config", f"nginx={conf}") if f[1] == "live-trap"]
    assert [f[0] for f in traps] == ["error"]
    assert f"{live}/fullchain.pem ({conf}:8)" in traps[0][2] and f"{live}/cert.pem ({conf.parent}/sites/b.conf:1)" in traps[0][2]


def test_adopt_prints_by_default_and_never_edits_the_service_config(etc):
    live = etc.lineage("a.example")
    conf = _nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem")
    before = conf.read_bytes()
    proc = _adopt(etc, conf)
    assert proc.returncode == 0, proc.stderr
    assert "[[target]]" in proc.stdout and "# then change in nginx's configuration" in proc.stdout
    assert f"#   * {conf}:7: ssl_certificate {conf.parent}/tls/a.example/fullchain.pem" in proc.stdout
    assert "certbot-safedeploy pins spare.key" in proc.stdout  # the backup pin reminder
    assert conf.read_bytes() == before and not etc.config.exists()


def test_adopt_write_refuses_a_config_that_would_not_parse_and_leaves_it_alone(etc):
    live = etc.lineage("a.example")
    conf = _nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem")
    etc.config.write_text('[[target]]\nname = "nginx-a.example"\nlineage = "a.example"\n'
                          'files = [ { path = "/etc/x.pem", content = ["fullchain"] } ]\n')
    os.chmod(etc.config, 0o600)
    before = etc.config.read_bytes()
    proc = _adopt(etc, conf, "--write")
    assert proc.returncode == 1 and "is used twice" in proc.stderr
    assert etc.config.read_bytes() == before


def test_adopt_without_a_finding_needs_a_service(etc):
    etc.lineage("a.example")
    conf = _nginx(etc, "/etc/ssl/other.pem", "/etc/ssl/other.key")
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "adopt", "a.example", "--config-dir",
                           str(etc.le), "--config", str(etc.config), "--system-root", str(etc.root)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "no installed service reads" in proc.stderr
    assert conf.exists()


def test_adopt_write_refuses_a_destination_others_can_redirect(etc, tmp_path):
    live = etc.lineage("a.example")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # world-writable, no sticky bit: anyone could plant tls/ there
    conf = shared / "nginx.conf"
    conf.write_text(_nginx(etc, f"{live}/fullchain.pem", f"{live}/privkey.pem").read_text())
    etc.config.write_text("")
    os.chmod(etc.config, 0o600)
    proc = _adopt(etc, conf, "--write")
    assert proc.returncode == 1 and "is world-writable" in proc.stderr, proc.stderr
    assert etc.config.read_text() == "" and not (shared / "tls").exists()


def test_doctor_and_adopt_find_dovecot_reading_live_in_its_own_syntax(etc):
    """Dovecot 2.3 (ssl_cert = <live/...) or 2.4 (ssl_server_cert_file = live/...), whichever is installed:
    the trap is an error, never "no problems found", and adopt's change keeps that version's syntax."""
    live = etc.lineage("a.example")
    conf = etc.root / "dovecot" / "dovecot.conf"
    conf.parent.mkdir()
    conf.write_text(f"{dovecot.head()}protocols = imap\nssl = yes\n"
                    + dovecot.tls(f"{live}/fullchain.pem", f"{live}/privkey.pem"))
    proc = etc.run("--service-config", f"dovecot={conf}")
    assert proc.returncode == 1, proc.stdout
    line = next(l for l in proc.stdout.splitlines() if "live-trap" in l)
    cert_setting, key_setting = dovecot.setting_names()
    assert "dovecot reads certbot's live/a.example files directly" in line
    assert f"{cert_setting} {live}/fullchain.pem" in line and f"{key_setting} {live}/privkey.pem" in line
    adopted = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "adopt", "a.example", "--config-dir",
                              str(etc.le), "--config", str(etc.config), "--system-root", str(etc.root),
                              "--service-config", f"dovecot={conf}"], capture_output=True, text=True, timeout=60)
    assert adopted.returncode == 0, adopted.stderr
    new = f"{conf.parent}/tls/a.example/fullchain.pem"
    assert (f"{cert_setting} = {new}" if dovecot.is_24() else f"{cert_setting} = <{new}") in adopted.stdout
