"""doctor on RHEL-family trees (EPEL's certbot) and the proxy trap, in a temporary system root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.doctor.conftest import Etc

RENEW_SERVICE = """[Unit]
Description=This service automatically renews any certbot certificates found

[Service]
EnvironmentFile=/etc/sysconfig/certbot
Type=oneshot
ExecStart=/usr/bin/certbot renew --noninteractive --no-random-sleep-on-renew $PRE_HOOK $POST_HOOK $RENEW_HOOK $DEPLOY_HOOK $CERTBOT_ARGS
"""
RENEW_TIMER = """[Unit]
Description=This is the timer to set the schedule for automated renewals

[Timer]
OnCalendar=*-*-* 00/12:00:00
RandomizedDelaySec=12hours
Persistent=true

[Install]
WantedBy=timers.target
"""
SYSCONFIG = """# An example to stop the MTA before updating certs would be
# PRE_HOOK="--pre-hook 'systemctl stop postfix'"
PRE_HOOK=""
POST_HOOK=""
RENEW_HOOK=""
DEPLOY_HOOK="{deploy}"
CERTBOT_ARGS=""
{extra}"""


def rhel(etc: Etc, *, enabled: bool = True, installed: bool = True, deploy: str = "", extra: str = "") -> None:
    (etc.root / "etc").mkdir(exist_ok=True)
    (etc.root / "etc/os-release").write_text('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
                                             'VERSION_ID="9.6"\n')
    units = etc.root / "usr/lib/systemd/system"
    if installed:
        units.mkdir(parents=True, exist_ok=True)
        (units / "certbot-renew.service").write_text(RENEW_SERVICE)
        (units / "certbot-renew.timer").write_text(RENEW_TIMER)
        sysconfig = etc.root / "etc/sysconfig/certbot"
        sysconfig.parent.mkdir(exist_ok=True)
        sysconfig.write_text(SYSCONFIG.format(deploy=deploy, extra=extra))
        os.chmod(sysconfig, 0o644)
    if enabled:
        wants = etc.root / "etc/systemd/system/timers.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "certbot-renew.timer").symlink_to("/usr/lib/systemd/system/certbot-renew.timer")


def profile(etc: Etc, name: str, text: str) -> Path:
    path = etc.root / "etc/profile.d" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(etc: Etc) -> list[tuple[str, str, str]]:
    return [f for f in etc.findings() if f[0] != "ok"]


def test_enabled_certbot_renew_timer_is_a_scheduler(etc):
    etc.lineage("example.com")
    rhel(etc)
    proc = etc.run()
    assert proc.returncode == 0, proc.stdout
    assert "doctor: 0 error(s), 0 warning(s)" in proc.stdout


def test_installed_but_disabled_timer_gets_epels_fix(etc):
    etc.lineage("example.com")
    rhel(etc, enabled=False)
    proc = etc.run()
    line = next(l for l in proc.stdout.splitlines() if "schedulers" in l)
    assert line.startswith(f"WARNING: {etc.root}/usr/lib/systemd/system/certbot-renew.timer: schedulers: "
                           "certbot-renew.timer is installed but not enabled")
    assert "fix: systemctl enable --now certbot-renew.timer" in proc.stdout
    assert "certbot.timer" not in proc.stdout.replace("certbot-renew.timer", "")


def test_rhel_without_certbot_says_dnf(etc):
    etc.lineage("example.com")
    rhel(etc, enabled=False, installed=False)
    [(sev, check, msg)] = problems(etc)
    assert (sev, check, msg) == ("warning", "schedulers", "no certbot-renew.timer or cron job renews certificates")
    assert "dnf install certbot (from EPEL), then systemctl enable --now certbot-renew.timer" in etc.run().stdout


def test_two_schedulers_keep_the_distributions_timer(etc):
    etc.lineage("example.com")
    rhel(etc)
    etc.cron("certbot", "0 3 * * * root certbot -q renew\n")
    proc = etc.run()
    assert "2 schedulers renew certificates" in proc.stdout and "keep one (certbot-renew.timer)" in proc.stdout


@pytest.mark.parametrize("where", ["profile.d", "environment"])
def test_proxy_for_shells_but_not_the_timer(etc, where):
    etc.lineage("example.com")
    rhel(etc)
    if where == "profile.d":
        source = profile(etc, "proxy.sh", "# site proxy\nexport https_proxy=http://proxy.example:3128\n")
        line = 2
    else:
        source = etc.root / "etc/environment"
        source.write_text('https_proxy="http://proxy.example:3128"\n')
        line = 1
    [(sev, check, msg)] = problems(etc)
    assert (sev, check) == ("warning", "proxy")
    assert msg.startswith(f"https_proxy is set for interactive shells ({source}:{line}) but not in "
                          "certbot-renew.service's environment")
    assert (f"fix: add https_proxy=http://proxy.example:3128 to {etc.root}/etc/sysconfig/certbot "
            "(certbot-renew.service reads it)") in etc.run().stdout


def test_proxy_in_sysconfig_or_a_drop_in_is_seen_by_the_timer(etc):
    etc.lineage("example.com")
    profile(etc, "proxy.sh", "export https_proxy=http://proxy.example:3128\nexport http_proxy=http://proxy.example:3128\n")
    rhel(etc, extra="https_proxy=http://proxy.example:3128\n")
    [(sev, check, msg)] = problems(etc)  # http_proxy is still missing
    assert check == "proxy" and msg.startswith("http_proxy is set")
    dropin = etc.root / "etc/systemd/system/certbot-renew.service.d/proxy.conf"
    dropin.parent.mkdir(parents=True)
    dropin.write_text('[Service]\nEnvironment="http_proxy=http://proxy.example:3128"\n')
    assert problems(etc) == []


def test_proxy_credentials_are_never_printed(etc):
    etc.lineage("example.com")
    rhel(etc)
    profile(etc, "proxy.sh", "export https_proxy=http://alice:s3cret@proxy.example:3128\n")
    out = etc.run().stdout
    assert "proxy" in out and "s3cret" not in out and "alice" not in out
    assert "add https_proxy=<the value set in" in out


def test_debian_timer_gets_a_systemctl_edit_fix(etc):
    etc.lineage("example.com")
    etc.timer()
    (etc.root / "etc/environment").write_text("https_proxy=http://proxy.example:3128\n")
    out = etc.run().stdout
    assert ("fix: systemctl edit certbot.service, and add under [Service]: "
            "Environment=https_proxy=http://proxy.example:3128") in out


def test_deploy_hook_in_sysconfig_counts_as_installed(etc):
    etc.lineage("example.com")
    rhel(etc, deploy="--deploy-hook '/usr/bin/certbot-safedeploy hook'")
    etc.config.write_text('[[target]]\nname = "web"\nlineage = "example.com"\n'
                          'files = [ { path = "/etc/nginx/tls/a.crt", content = ["fullchain"] } ]\n')
    os.chmod(etc.config, 0o600)
    assert not [f for f in problems(etc) if f[1] == "deploy-hook"]


def test_other_deploy_hook_in_sysconfig_replaces_the_saved_one(etc):
    etc.lineage("example.com", params="renew_hook = /usr/bin/certbot-safedeploy hook")
    rhel(etc, deploy="--deploy-hook 'systemctl reload postfix'")
    [(sev, check, msg)] = problems(etc)
    assert (sev, check) == ("error", "sysconfig-hook")
    assert msg.startswith(f"DEPLOY_HOOK in {etc.root}/etc/sysconfig/certbot replaces the deploy hook saved for "
                          "example.com whenever certbot-renew.timer renews")
    assert f"{etc.root}/etc/sysconfig/certbot:6: sysconfig-hook" in etc.run().stdout


def test_writable_sysconfig_is_an_error(etc):
    etc.lineage("example.com")
    rhel(etc)
    os.chmod(etc.root / "etc/sysconfig/certbot", 0o666)
    [(sev, check, msg)] = [f for f in problems(etc) if f[1] == "permissions"]
    assert sev == "error" and "commands certbot-renew.service runs as root" in msg
