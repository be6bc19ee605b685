"""When each lineage really renews, and whether that works (pure).

For one lineage: the certbot that will run the renewal (installed, else the
renewal config's ``version``), its rule (:mod:`certbot_safedeploy.material.renewalrule`)
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

DUPLICATE_LIMIT_PER_WEEK = 5  # Let's Encrypt: duplicate certificates per 7 days


@dataclasses.dataclass(frozen=True)
class LineageTiming:
    name: str
    conf_path: str
    conf_version: str  # renewal config's ``version`` ("" when absent)
    renew_before_expiry: str  # "" when not set
    not_before: datetime.datetime
    not_after: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Cadence:
    """A scheduler that runs ``certbot renew``: where, and how often."""

    where: str  # the timer unit or crontab file:line
    typical_hours: float
    longest_hours: float

    def describe(self) -> str:
        every = f"{self.typical_hours:g} hours" if self.typical_hours < 48 else f"{self.typical_hours / 24:g} days"
        return f"{self.where} runs it every {every}, at most {self.longest_hours:g} hours apart"


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
