"""Ubuntu 22.04's versions: certbot 1.21 on Python 3.10 with cryptography 3.4.8, dnspython 2.1,
pyOpenSSL 21 and setuptools 59.6 (.venv-ubuntu2204, built by scripts/setup with pip constraints).

pkg_resources 59.6 loads the plugin and checks our requirements; certbot runs isolated from the
host's /etc/letsencrypt like the Debian test (distro.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .distro import IsolatedCertbot, issue_verify_deploy_renew, run_ok, versions
from .distro import machine_left_as_found  # noqa: F401  (autouse fixture)

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-ubuntu2204"
PLATFORM = "ubuntu22.04 versions, certbot 1.21"
EXPECTED = {"certbot": "1.21.0", "acme": "1.21.0", "josepy": "1.10.0", "cryptography": "3.4.8",
            "pyOpenSSL": "21.0.0", "dnspython": "2.1.0", "setuptools": "59.6.0"}


@pytest.fixture
def certbot121(acme, tmp_path) -> IsolatedCertbot:
    assert (VENV / "bin" / "certbot").exists(), "scripts/setup creates .venv-ubuntu2204"
    return IsolatedCertbot(tmp_path / "certbot", acme.pebble, str(VENV / "bin" / "certbot"))


def test_the_venv_has_ubuntu_2204_versions(capsys):
    python, seen = versions(str(VENV / "bin" / "python"), sorted(EXPECTED))
    with capsys.disabled():
        print(f"\n[{PLATFORM}] python {python}, " + ", ".join(f"{k} {v}" for k, v in seen.items()), flush=True)
    assert python.startswith("3.10.")
    assert seen == EXPECTED  # our plain `pip install` upgraded none of them


def test_plugin_loads_and_every_command_works(certbot121):
    common = ["--config-dir", str(certbot121.config_dir), "--work-dir", str(certbot121.base / "work"),
              "--logs-dir", str(certbot121.base / "logs")]
    version = subprocess.run([certbot121.executable, "--version"], capture_output=True, text=True, timeout=60)
    assert "certbot 1.21.0" in version.stdout + version.stderr, version.stderr[-2000:]
    plugins = run_ok([certbot121.executable, "plugins", *common])
    assert "* safedeploy" in plugins.stdout
    helped = run_ok([certbot121.executable, "--help", "safedeploy", *common])
    assert "--safedeploy-webroot-map" in helped.stdout


def test_issue_verify_deploy_and_timer_renewal(acme, certbot121, tmp_path, capsys):
    with capsys.disabled():
        issue_verify_deploy_renew(acme, certbot121, str(VENV / "bin" / "certbot-safedeploy"), PLATFORM, tmp_path)
