"""`certbot-safedeploy ari` against a real CA with renewal information (Debian 13's pebble 2.6).

A certificate issued with `certbot -a safedeploy` and deployed into nginx is revoked
through ACME; pebble then suggests a window in the past, and one `ari` run renews it
through `certbot renew` and the installed deploy hook: nginx serves the new serial.
The same with Debian 12's certbot 2.1 and Ubuntu 22.04's 1.21.  Against pebble 2.4
(no renewalInfo) one line says so and nothing breaks.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509

from .acmebed import PEBBLE26
from .conftest import AcmeBed, _start_acme_bed, _stop
from .distro import TIMER_PATH, IsolatedCertbot, Site, run_ok
from .distro import machine_left_as_found  # noqa: F401  (autouse fixture)
from .test_deploy_nginx import served_serial
from .test_plugin_e2e import ok

REPO = Path(__file__).resolve().parents[2]
NEWEST = str(Path(sys.executable).parent / "certbot")
VENVS = Path(os.environ.get("SAFEDEPLOY_VENV_ROOT", REPO))  # a worktree runs the main checkout's venvs
CERTBOTS = {"newest": NEWEST, "2.1": str(VENVS / ".venv-certbot21" / "bin" / "certbot"),
            "1.21": str(VENVS / ".venv-ubuntu2204" / "bin" / "certbot")}


@pytest.fixture(scope="module")
def acme26(tmp_path_factory: pytest.TempPathFactory, private_netns: None) -> Iterator[AcmeBed]:
    assert PEBBLE26.exists(), "scripts/setup unpacks Debian 13's pebble 2.6 (scripts/fetch-pebble26)"
    bed = _start_acme_bed(tmp_path_factory.mktemp("acme26"), pebble_binary=str(PEBBLE26))
    yield bed
    _stop(bed)


def ari(certbot: IsolatedCertbot, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`certbot-safedeploy ari` the way its timer runs it (this checkout's package)."""
    command = shlex.join([certbot.executable, "--work-dir", str(certbot.base / "work"),
                          "--logs-dir", str(certbot.base / "logs")])
    env = {"PATH": TIMER_PATH, "LANG": "C.UTF-8", "PYTHONPATH": str(REPO),
           "REQUESTS_CA_BUNDLE": str(certbot.pebble.listener_ca)}
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "ari", "--config-dir",
                           str(certbot.config_dir), "--config", str(config), "--certbot", command, *extra],
                          capture_output=True, text=True, timeout=600, env=env)


def doctor_ari(certbot: IsolatedCertbot, config: Path, root: Path) -> dict[str, str]:
    import json

    env = dict(os.environ, PYTHONPATH=str(REPO), REQUESTS_CA_BUNDLE=str(certbot.pebble.listener_ca))
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "doctor", "--live", "--json", "--config-dir",
                           str(certbot.config_dir), "--config", str(config), "--system-root", str(root)],
                          capture_output=True, text=True, timeout=120, env=env)
    found = [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "live-ari"]
    assert len(found) == 1, proc.stdout
    return found[0]


def issue_and_serve(acme: AcmeBed, certbot: IsolatedCertbot, base: Path, name: str) -> tuple[Site, int]:
    ok(certbot.certonly([name], *acme.plugin_args(webroot_map={name: str(acme.webroot)}, dns=False)))
    site = Site(base / "site", certbot.etc / "safedeploy.toml", name, acme.pebble.issuing_roots())
    site.write_config()
    cli = [sys.executable, "-m", "certbot_safedeploy"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    run_ok([*cli, "deploy", "--lineage", str(certbot.live(name)), "--config", str(site.config)], env=env)
    site.start_nginx()
    run_ok([*cli, "install", "--config-dir", str(certbot.config_dir), "--config", str(site.config)], env=env)
    return site, served_serial(site.port)


@pytest.mark.parametrize("which", sorted(CERTBOTS))
def test_a_revoked_certificate_is_renewed_by_one_ari_run(acme26, tmp_path, which, capsys):
    assert Path(CERTBOTS[which]).exists(), "scripts/setup builds the venvs"
    certbot = IsolatedCertbot(tmp_path / "certbot", acme26.pebble, CERTBOTS[which])
    name = "web.example.test"
    site, first = issue_and_serve(acme26, certbot, tmp_path, name)
    try:
        force = ["--force-ari"] if which == "newest" else []  # certbot >= 4.1 checks ARI itself
        if not force:
            skipped = ari(certbot, site.config, "--dry-run")
            assert skipped.returncode == 0 and "would run" not in skipped.stdout, skipped.stdout + skipped.stderr
        ok(certbot.run("revoke", "--cert-name", name, "--no-delete-after-revoke", "--reason", "keycompromise"))
        if which == "2.1":  # doctor --live: the CA's window has started and nothing renews (no ARI timer)
            found = doctor_ari(certbot, site.config, tmp_path)
            assert found["severity"] == "error" and "nothing renews this certificate" in found["message"], found
        proc = ari(certbot, site.config, *force)
        out = proc.stdout + proc.stderr
        with capsys.disabled():
            print(f"\n[ari, certbot {which}] " + " | ".join(out.strip().splitlines()), flush=True)
        assert proc.returncode == 0, out
        assert f"{name}: the window" in out and "lies in the past" in out
        assert f"{name}: renewed by certbot" in out
        assert (certbot.config_dir / "archive" / name / "cert2.pem").exists()
        renewed = served_serial(site.port)
        assert renewed != first
        assert renewed == x509.load_pem_x509_certificate((certbot.live(name) / "cert.pem").read_bytes()).serial_number
        # the new certificate: the directory and its renewalInfo once, then Retry-After holds the next run to no request at all
        again = ari(certbot, site.config, *force)
        assert again.returncode == 0 and "2 request(s) sent, 0 renewed" in again.stdout, again.stdout + again.stderr
        third = ari(certbot, site.config, *force)
        assert "0 request(s) sent, 0 renewed" in third.stdout, third.stdout + third.stderr
    finally:
        site.stop()


def test_a_ca_without_ari_is_one_line(acme, tmp_path):
    certbot = IsolatedCertbot(tmp_path / "certbot", acme.pebble, CERTBOTS["2.1"])
    name = "web.example.test"
    ok(certbot.certonly([name], *acme.plugin_args(webroot_map={name: str(acme.webroot)}, dns=False)))
    config = certbot.etc / "safedeploy.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    proc = ari(certbot, config)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{name}: the CA at {acme.pebble.directory_url} offers no renewalInfo (ARI)" in proc.stdout
    assert not (certbot.config_dir / "archive" / name / "cert2.pem").exists()
