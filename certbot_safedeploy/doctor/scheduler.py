"""How often ``certbot renew`` runs on this machine (I/O: reads timers and crontabs).

Kept apart from :mod:`.snapshot` (which finds *whether* something schedules
renewals) so that platform detection can grow there without touching this.

* ``certbot.timer`` (Debian, Ubuntu), ``snap.certbot.renew.timer`` (the snap) and
  ``certbot-renew.timer`` (EPEL): read from the unit's ``OnCalendar`` and
  ``RandomizedDelaySec``; all three ship twice a day with up to 12 hours of delay;
* cron lines that run ``certbot ... renew`` in ``/etc/crontab``, ``/etc/cron.d/``
  and the user crontabs, and scripts in ``/etc/cron.{daily,weekly}``.
"""

from __future__ import annotations

import glob
import os
import re

from certbot_safedeploy.doctor.scheduling import read_limited as _read
from certbot_safedeploy.doctor.schedulecheck import Cadence as Scheduler
from certbot_safedeploy.syntax.cronspec import CronError, cron_gaps

TIMERS = ("certbot.timer", "snap.certbot.renew.timer", "certbot-renew.timer")
WANTS = ("etc/systemd/system/timers.target.wants", "lib/systemd/system/timers.target.wants",
         "usr/lib/systemd/system/timers.target.wants")
UNIT_DIRS = ("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system")
_CALENDAR = {"hourly": 1.0, "daily": 24.0, "weekly": 168.0, "monthly": 744.0}


def _seconds(text: str) -> float:
    total = 0.0
    units = {"": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minutes": 60,
             "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400}
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text.lower()):
        total += float(number) * units.get(unit, 1)
    return total


def calendar_hours(on_calendar: str) -> float | None:
    """The interval of an ``OnCalendar=`` value this module understands, in hours."""
    value = on_calendar.strip().lower()
    if value in _CALENDAR:
        return _CALENDAR[value]
    match = re.fullmatch(r"(?:\*-\*-\*\s+)?([\d,/]+):(\d+)(?::\d+)?", value)
    if not match:
        return None
    hours = match.group(1)
    if "/" in hours:
        step = hours.split("/", 1)[1]
        return float(step) if step.isdigit() and int(step) > 0 else None
    return 24.0 / len(hours.split(","))


def _timer(root: str, unit: str) -> Scheduler | None:
    if not any(os.path.lexists(os.path.join(root, w, unit)) for w in WANTS):
        return None
    text = next((t for d in UNIT_DIRS if (t := _read(os.path.join(root, d, unit)))), "")
    interval, delay = 12.0, 12.0  # what all three packages ship
    calendars = [calendar_hours(m) for m in re.findall(r"^\s*OnCalendar\s*=\s*(.+?)\s*$", text, re.M)]
    known = [c for c in calendars if c is not None]
    if known:
        interval = min(known)
    delays = re.findall(r"^\s*RandomizedDelaySec\s*=\s*(.+?)\s*$", text, re.M)
    if delays:
        delay = _seconds(delays[-1]) / 3600
    elif text:
        delay = 0.0
    return Scheduler(unit, interval, interval + delay)


def _runs_renew(command: str) -> bool:
    return bool(re.search(r"\b(certbot|letsencrypt)\b.*\brenew\b", command))


def _cron_lines(root: str) -> list[Scheduler]:
    found: list[Scheduler] = []
    system = [os.path.join(root, "etc/crontab")] + sorted(glob.glob(os.path.join(root, "etc/cron.d/*")))
    users = sorted(glob.glob(os.path.join(root, "var/spool/cron/crontabs/*")) +
                   glob.glob(os.path.join(root, "var/spool/cron/*")))
    for path, has_user in [(p, True) for p in system] + [(p, False) for p in users if os.path.isfile(p)]:
        for number, line in enumerate(_read(path).splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or not _runs_renew(stripped):
                continue
            if "-d /run/systemd/system" in stripped.replace("\\!", "!"):
                continue  # Debian's guard: cron defers to certbot.timer where systemd runs
            words = stripped.split()
            fields = 1 if words[0].startswith("@") else 5
            try:
                gaps = cron_gaps(" ".join(words[:fields]))
            except CronError:
                continue
            found.append(Scheduler(f"{path}:{number}", gaps.typical_hours, gaps.longest_hours))
    for period, hours in (("daily", 24.0), ("weekly", 168.0)):
        for path in sorted(glob.glob(os.path.join(root, f"etc/cron.{period}/*"))):
            if _runs_renew(_read(path)):
                found.append(Scheduler(path, hours, hours))
    return found


def schedulers(system_root: str = "/") -> list[Scheduler]:
    """Every scheduler that runs ``certbot renew``, timers first."""
    timers = [t for unit in TIMERS if (t := _timer(system_root, unit)) is not None]
    return timers + _cron_lines(system_root)
