"""Distribution certbots rebuilt from PyPI with the distribution's versions (one venv each, built by
scripts/setup with pip constraints):

* ubuntu2204: Ubuntu 22.04's certbot 1.21 on Python 3.10, cryptography 3.4.8, dnspython 2.1,
  pyOpenSSL 21 and setuptools 59.6 (pkg_resources 59.6 loads the plugin and checks our requirements);
* ubuntu2404: Ubuntu 24.04's certbot 2.9 on Python 3.12, cryptography 41.0.7, dnspython 2.6.1, pyOpenSSL 23.2;
* epel9: EPEL 9's certbot 3.1 and josepy 1.14 on RHEL 9's Python 3.9 with its cryptography 36.0.1 and pyOpenSSL 21;
* epel10: EPEL 10's certbot 4.2 on Python 3.12, josepy 2.0, pyOpenSSL 25.0, cryptography 43.

Each is installed without upgrading a pinned library (the venv's constraints.txt lists the pins),
loads the plugin, issues with -a safedeploy and renews timer-style through the deploy hook.
certbot runs isolated from the host's /etc/letsencrypt like the Debian test (distro.py).
scripts/test runs one platform at a time: ``-k ubuntu2404``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .distro import IsolatedCertbot, issue_verify_deploy_renew, run_ok, versions
from .distro import machine_left_as_found  # noqa: F401  (autouse fixture)

REPO = Path(__file__).resolve().parents[2]
# platform -> (venv, Python minor version, what the result lines call it)
PLATFORMS = {
    "ubuntu2204": (".venv-ubuntu2204", "3.10", "ubuntu22.04 versions, certbot 1.21"),
    "ubuntu2404": (".venv-ubuntu2404", "3.12", "ubuntu24.04 versions, certbot 2.9"),
    "epel9": (".venv-epel9", "3.9", "EPEL 9 versions, certbot 3.1"),
    "epel10": (".venv-epel10", "3.12", "EPEL 10 versions, certbot 4.2"),
}

CORE = ("certbot", "acme", "josepy", "cryptography", "pyOpenSSL", "dnspython", "setuptools")


def pins(venv: Path) -> dict[str, str]:
    """NAME==VERSION lines of the venv's constraints.txt (written by scripts/setup)."""
    found: dict[str, str] = {}
    for line in (venv / "constraints.txt").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.strip()] = version.strip()
    return found


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> tuple[Path, str, str]:
    venv, python, label = PLATFORMS[request.param]
    path = REPO / venv
    if not (path / "bin" / "certbot").exists():
        pytest.fail(f"{venv} is missing: scripts/setup builds it")
    return path, python, label


@pytest.fixture
def pinned_certbot(acme, platform, tmp_path) -> IsolatedCertbot:
    return IsolatedCertbot(tmp_path / "certbot", acme.pebble, str(platform[0] / "bin" / "certbot"))


def test_the_venv_has_the_distribution_versions(platform, capsys):
    venv, minor, label = platform
    expected = pins(venv)
    python, seen = versions(str(venv / "bin" / "python"), sorted(expected))
    with capsys.disabled():
        print(f"\n[{label}] python {python}, " + ", ".join(f"{k} {v}" for k, v in seen.items()), flush=True)
    assert python.startswith(minor + ".")
    # our plain `pip install` upgraded none of them; a pin only constrains what is installed
    # (Ubuntu 22.04's zope.hookable), but certbot and its libraries must all be there
    assert {k: v for k, v in seen.items() if v != "-"} == {k: v for k, v in expected.items() if seen[k] != "-"}
    assert not [k for k in CORE if k in expected and seen[k] == "-"]


def test_plugin_loads_and_every_command_works(pinned_certbot, platform):
    common = ["--config-dir", str(pinned_certbot.config_dir), "--work-dir", str(pinned_certbot.base / "work"),
              "--logs-dir", str(pinned_certbot.base / "logs")]
    version = subprocess.run([pinned_certbot.executable, "--version"], capture_output=True, text=True, timeout=60)
    assert f"certbot {pins(platform[0])['certbot']}" in version.stdout + version.stderr, version.stderr[-2000:]
    plugins = run_ok([pinned_certbot.executable, "plugins", *common])
    assert "* safedeploy" in plugins.stdout
    helped = run_ok([pinned_certbot.executable, "--help", "safedeploy", *common])
    assert "--safedeploy-webroot-map" in helped.stdout


def test_issue_verify_deploy_and_timer_renewal(acme, pinned_certbot, platform, tmp_path, capsys):
    venv, _, label = platform
    with capsys.disabled():
        issue_verify_deploy_renew(acme, pinned_certbot, str(venv / "bin" / "certbot-safedeploy"), label, tmp_path)
