"""Doctor's judgements on what renews certificates and with which environment (pure: no I/O).

Each distribution's own scheduler is named with its own fix: certbot.timer (Debian,
Ubuntu), certbot-renew.timer and /etc/sysconfig/certbot (EPEL on the RHEL family),
snap.certbot.renew.timer (the snap).

The timing check, for one lineage: the certbot that will run the renewal (installed, else
the renewal config's ``version``), its rule (:mod:`certbot_safedeploy.material.renewalrule`)
or ``renew_before_expiry``, and how often the scheduler runs.  Two errors:

* **renews on every run**: after a renewal, the next run already finds the new
  certificate inside the window (lifetime - interval < window).  Twice a day, that
  is 14 orders a week against Let's Encrypt's 5 duplicate certificates a week;
* **cannot renew in time**: the window is not longer than the longest gap between
  runs, so the certificate can run out before certbot looks again.

Each comes with the ``renew_before_expiry`` line that fixes it, or the scheduler
change when no window can.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Sequence

from certbot_safedeploy.material.renewalrule import parse_version, renewal_rule
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding
from certbot_safedeploy.doctor.scheduling import PROXY_NAMES, Cadence, Scheduling, Setting, Timer
from certbot_safedeploy.doctor.snapshot import Snapshot

DEPLOY_HOOK_MARKERS = ("certbot_safedeploy", "certbot-safedeploy")
_DEFAULT_TIMER = {"rhel": "certbot-renew.timer", "debian": "certbot.timer", "": "certbot.timer"}


def _timer_to_keep(s: Scheduling) -> Timer | None:
    return (next((t for t in s.timers if t.enabled), None)
            or next((t for t in s.timers if t.unit_file and t.family == s.family), None)
            or next((t for t in s.timers if t.unit_file), None))


def _timer_name(s: Scheduling) -> str:
    timer = _timer_to_keep(s)
    return timer.name if timer else _DEFAULT_TIMER.get(s.family, "certbot.timer")


def check_schedulers(snap: Snapshot) -> list[Finding]:
    s = snap.scheduling
    sources = [f"{p} (enabled timer)" for p in snap.certbot_timer_enabled]
    sources += [f"{path}: {line[:80]}" for path, line in snap.schedulers]
    name = _timer_name(s)
    if len(sources) > 1:
        return [report.error(
            sources[0].split(" ", 1)[0], "schedulers",
            f"{len(sources)} schedulers renew certificates: " + "; ".join(sources),
            f"keep one ({name}); a script that renews by itself skips certbot's deploy hooks, "
            "so remove its cron line and put its distribution step in renewal-hooks/deploy/")]
    if sources:
        return []
    installed = _timer_to_keep(s)
    if installed and installed.unit_file:
        return [report.warning(installed.unit_file, "schedulers",
                               f"{installed.name} is installed but not enabled, and no cron job renews "
                               "certificates: nothing renews them",
                               f"systemctl enable --now {installed.name}")]
    if s.family == "rhel":
        return [report.warning(snap.config_dir, "schedulers",
                               "no certbot-renew.timer or cron job renews certificates",
                               "dnf install certbot (from EPEL), then systemctl enable --now certbot-renew.timer")]
    return [report.warning(snap.config_dir, "schedulers", "no certbot.timer or cron job renews certificates",
                           "systemctl enable --now certbot.timer")]


def _sysconfig_in_use(s: Scheduling) -> bool:
    """/etc/sysconfig/certbot's hooks reach certbot only through EPEL's certbot-renew.service."""
    return bool(s.sysconfig_values) and s.timer_service == "certbot-renew.service"


def sysconfig_deploys(s: Scheduling) -> bool:
    """The safedeploy deploy hook is given to the timer's certbot in DEPLOY_HOOK or RENEW_HOOK."""
    return _sysconfig_in_use(s) and any(
        any(m in s.sysconfig_values[k].value for m in DEPLOY_HOOK_MARKERS)
        for k in ("DEPLOY_HOOK", "RENEW_HOOK") if k in s.sysconfig_values)


def check_sysconfig_hooks(snap: Snapshot, targets: Sequence[tuple[str, str]]) -> list[Finding]:
    """A DEPLOY_HOOK (or RENEW_HOOK) in /etc/sysconfig/certbot is passed on certbot's command
    line, so it replaces the deploy hook each renewal config saved (renew_hook)."""
    s = snap.scheduling
    if not _sysconfig_in_use(s) or sysconfig_deploys(s):
        return []
    relying = sorted({l.name for l in snap.lineages
                      if any(m in l.conf.params.get("renew_hook", "") for m in DEPLOY_HOOK_MARKERS)})
    out = []
    for key in ("DEPLOY_HOOK", "RENEW_HOOK"):
        setting = s.sysconfig_values.get(key)
        if setting and setting.value and relying:
            out.append(report.error(
                setting.source, "sysconfig-hook",
                f"{key} in {s.sysconfig} replaces the deploy hook saved for {', '.join(relying)} whenever "
                f"certbot-renew.timer renews: the safedeploy hook will not run and renewed certificates "
                "will not be deployed",
                "certbot-safedeploy install (hooks in renewal-hooks/deploy/ run whatever DEPLOY_HOOK says), "
                f"or empty {key} in {s.sysconfig}"))
    return out


def _shown(name: str, setting: Setting) -> str:
    """NAME=VALUE for a fix, unless the value carries credentials (never printed)."""
    if "@" in setting.value:
        return f"{name}=<the value set in {setting.source}>"
    return f"{name}={setting.value}"


def check_proxy(snap: Snapshot) -> list[Finding]:
    """The proxy trap: a proxy an admin's shell gets, but certbot's timer does not, so a renewal
    that works by hand fails from the timer."""
    s = snap.scheduling
    if not s.timer_service:
        return []
    out = []
    for name in PROXY_NAMES:
        shell = s.shell_env.get(name)
        if shell is None or name in s.timer_env:
            continue
        if s.timer_service == "certbot-renew.service":
            fix = f"add {_shown(name, shell)} to {s.sysconfig} (certbot-renew.service reads it)"
        else:
            fix = (f"systemctl edit {s.timer_service}, and add under [Service]: "
                   f"Environment={_shown(name, shell)}")
        out.append(report.warning(
            shell.source.rsplit(":", 1)[0] if shell.source.startswith("/") else s.sysconfig, "proxy",
            f"{name} is set for interactive shells ({shell.source}) but not in {s.timer_service}'s environment "
            f"(its Environment=, EnvironmentFile= and drop-ins): certbot run by hand uses the proxy, the "
            "timer's renewal does not and fails where only the proxy reaches the CA", fix))
    return out


DUPLICATE_LIMIT_PER_WEEK = 5  # Let's Encrypt: duplicate certificates per 7 days


@dataclasses.dataclass(frozen=True)
class LineageTiming:
    name: str
    conf_path: str
    conf_version: str  # renewal config's ``version`` ("" when absent)
    renew_before_expiry: str  # "" when not set
    not_before: datetime.datetime
    not_after: datetime.datetime


def _fix_window(lifetime: float, cadence: Cadence) -> str | None:
    """A renew_before_expiry value that neither renews every run nor misses expiry; None: none exists."""
    low, high = cadence.longest_hours / 24, lifetime - cadence.typical_hours / 24
    if high <= low:
        return None
    prefer = lifetime / 2 if lifetime < 10 else lifetime / 3
    days = math.floor(min(max(prefer, low), high))
    if low < days < high:
        return f"{days} days"
    hours = math.ceil(min(max(prefer, low), high) * 24)
    hours = hours if low * 24 < hours < high * 24 else math.floor((low + high) * 12)
    return f"{hours} hours"


def check_timing(lineage: LineageTiming, installed: tuple[str, str] | None,
                 cadences: Sequence[Cadence]) -> list[Finding]:
    if not cadences:
        return []  # check_schedulers already warns that nothing renews
    cadence = min(cadences, key=lambda c: (c.typical_hours, c.longest_hours))
    version_text = installed[0] if installed else lineage.conf_version
    version = parse_version(version_text)
    lifetime = (lineage.not_after - lineage.not_before).total_seconds() / 86400
    rule = renewal_rule(version, lifetime, lineage.renew_before_expiry)
    who = f"certbot {version_text}" if version_text else "a certbot of unknown version"
    if installed and lineage.conf_version and parse_version(lineage.conf_version) != version:
        who += f" (installed at {installed[1]}; renewal config written by {lineage.conf_version})"
    base = (f"{lineage.name}: {lifetime:.0f}-day certificate, renewed by {who} when {rule.window_days:g} days are "
            f"left ({rule.source}); {cadence.describe()}")
    fix = _fix_window(lifetime, cadence)
    fix_text = (f"add the line 'renew_before_expiry = {fix}' at the top of {lineage.conf_path}" if fix else
                f"run certbot renew at least every {max(1, math.floor(lifetime * 24 / 3)):d} hours "
                "(systemctl enable --now certbot.timer runs it twice a day)")
    out: list[Finding] = []
    if lifetime - cadence.typical_hours / 24 < rule.window_days:
        runs = 168 / cadence.typical_hours
        limit = f", over Let's Encrypt's {DUPLICATE_LIMIT_PER_WEEK} duplicate certificates a week" \
            if runs > DUPLICATE_LIMIT_PER_WEEK else ""
        out.append(report.error(lineage.conf_path, "renewal-schedule",
                                f"{base}: it renews on every run, {runs:.0f} order{'' if round(runs) == 1 else 's'} a week{limit}", fix_text))
    if min(rule.window_days, lifetime) <= cadence.longest_hours / 24:
        out.append(report.error(lineage.conf_path, "renewal-schedule",
                                f"{base}: it cannot renew in time, the window is not longer than the "
                                f"{cadence.longest_hours:g} hours between runs", fix_text))
    if not out:
        out.append(report.passed(lineage.conf_path, "renewal-schedule", base))
    return out
