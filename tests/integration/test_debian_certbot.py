"""Debian 12's own certbot (/usr/bin/certbot, apt) with our Debian package installed.

scripts/setup builds python3-certbot-safedeploy with scripts/build-deb and installs it;
the first test refuses a package older than this source tree.  Every certbot here runs
isolated from the host's /etc/letsencrypt (see distro.py), and the module checks that
cli.ini, the cron file, certbot.timer and certbot's directories are as it found them.
"""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest

from .distro import IsolatedCertbot, issue_dns01_alone, issue_verify_deploy_renew, run_ok, timed, versions
from .distro import machine_left_as_found  # noqa: F401  (autouse fixture)
from .test_manual_hooks import hook_env  # noqa: F401  (fixture)
from .test_plugin_e2e import assert_issued, challenges_used, ok

REPO = Path(__file__).resolve().parents[2]
PLATFORM = "debian12 /usr/bin/certbot"
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
HOOKS = Path("/usr/share/certbot-safedeploy/hooks")
CLI = "/usr/bin/certbot-safedeploy"
LIBRARIES = ["certbot", "acme", "josepy", "cryptography", "pyOpenSSL", "dnspython", "certbot-safedeploy"]


@pytest.fixture
def debian_certbot(acme, tmp_path) -> IsolatedCertbot:
    return IsolatedCertbot(tmp_path / "certbot", acme.pebble, "/usr/bin/certbot")


def test_debian_packages_are_the_ones_in_use(capsys):
    versions_of_packages = run_ok(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "certbot", "python3-certbot",
                       "python3-acme", "python3-cryptography", "python3-dnspython", "python3-openssl",
                       "python3-certbot-safedeploy"]).stdout
    python, seen = versions("/usr/bin/python3", LIBRARIES)
    module = run_ok(["/usr/bin/python3", "-c", "import certbot_safedeploy; print(certbot_safedeploy.__file__)"],
                    env={"PATH": "/usr/bin:/bin"}, cwd="/").stdout.strip()
    with capsys.disabled():
        print(f"\n[{PLATFORM}] python {python}, " + ", ".join(f"{k} {v}" for k, v in seen.items())
              + f"\n{versions_of_packages}", flush=True)
    assert (seen["certbot"], seen["cryptography"], seen["dnspython"]) == ("2.1.0", "38.0.4", "2.3.0")
    assert Path(module).parent == DIST_PACKAGES / "certbot_safedeploy"
    stale = [str(p.relative_to(REPO)) for p in (REPO / "certbot_safedeploy").rglob("*.py")
             if not filecmp.cmp(p, DIST_PACKAGES / p.relative_to(REPO), shallow=False)]
    assert not stale, f"python3-certbot-safedeploy is older than the source ({stale}): run scripts/setup"


def test_certbot_plugins_lists_safedeploy(debian_certbot):
    proc = subprocess.run([debian_certbot.executable, "plugins", "--config-dir", str(debian_certbot.config_dir),
                           "--work-dir", str(debian_certbot.base / "work"), "--logs-dir",
                           str(debian_certbot.base / "logs")], capture_output=True, text=True, timeout=60)
    ok(proc)
    assert "* safedeploy" in proc.stdout
    assert "certbot_safedeploy.plugin:Authenticator" in proc.stdout


def test_issue_verify_deploy_and_timer_renewal(acme, debian_certbot, tmp_path, capsys):
    with capsys.disabled():
        issue_verify_deploy_renew(acme, debian_certbot, CLI, PLATFORM, tmp_path)


def test_dns01_alone_with_the_plugin(acme, debian_certbot, capsys):
    with capsys.disabled():
        issue_dns01_alone(acme, debian_certbot, PLATFORM)


def manual(certbot: IsolatedCertbot, hooks: Path, preferred: str, domains: list[str], env: dict[str, str],
           what: str) -> None:
    ok(timed(f"certonly --manual with {what}, {preferred}-01 ({', '.join(domains)})", PLATFORM,
             lambda: certbot.certonly(domains, "--manual", "--preferred-challenges", preferred,
                                      "--manual-auth-hook", str(hooks / "manual-auth"),
                                      "--manual-cleanup-hook", str(hooks / "manual-cleanup"), env=env)))
    assert_issued(certbot, domains[0], [d.replace("*", "x") for d in domains])
    assert set(challenges_used(certbot).values()) == {f"{preferred}-01"}


@pytest.mark.parametrize("preferred, domains", [("http", ["web.example.test"]),
                                                ("dns", ["example.test", "*.example.test"])])
def test_packaged_manual_hooks(acme, debian_certbot, hook_env, preferred, domains, capsys):  # noqa: F811
    with capsys.disabled():
        manual(debian_certbot, HOOKS, preferred, domains, hook_env[0], "the packaged hooks")


def test_manual_hooks_from_a_virtualenv(acme, debian_certbot, hook_env, tmp_path, capsys):  # noqa: F811
    """README's other way with a distribution certbot: `install` from a venv writes hooks naming its python."""
    venv_cli = REPO / ".venv" / "bin" / "certbot-safedeploy"
    run_ok([str(venv_cli), "install", "--config-dir", str(tmp_path / "le"), "--config", str(tmp_path / "none.toml")])
    hooks = tmp_path / "le" / "safedeploy"
    assert (hooks / "manual-auth").read_text().startswith(f"#!{REPO / '.venv' / 'bin'}/python")
    with capsys.disabled():
        manual(debian_certbot, hooks, "dns", ["venv.example.test"], hook_env[0], "hooks from a virtualenv")
