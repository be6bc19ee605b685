"""Read what runs ``certbot renew`` on this system and with which environment (I/O).

Debian and Ubuntu run it from ``certbot.timer`` (certbot.service), EPEL on the RHEL family
from ``certbot-renew.timer`` (certbot-renew.service, ``EnvironmentFile=/etc/sysconfig/certbot``
with ``PRE_HOOK``, ``POST_HOOK``, ``RENEW_HOOK``, ``DEPLOY_HOOK`` and ``CERTBOT_ARGS``), the snap
from ``snap.certbot.renew.timer``.  A timer's service gets only its unit's environment
(``Environment=``, ``EnvironmentFile=``, drop-ins, systemd's ``DefaultEnvironment=``), never what
an interactive shell exports: that difference is the proxy trap.

How often it runs (:func:`schedulers`): an enabled timer's ``OnCalendar`` and
``RandomizedDelaySec`` (all three timers ship twice a day with up to 12 hours of delay), cron
lines that run ``certbot ... renew`` in ``/etc/crontab``, ``/etc/cron.d/`` and the user
crontabs, and scripts in ``/etc/cron.{daily,weekly}``.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
from typing import Mapping

from certbot_safedeploy.system import readfile
from certbot_safedeploy.syntax.cronspec import CronError, cron_gaps
from certbot_safedeploy.syntax.envfile import Assignment, parse_env_file, parse_unit_environment

UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system", "lib/systemd/system")
# timer -> (service, who ships it)
TIMERS = {"certbot.timer": ("certbot.service", "debian"),
          "certbot-renew.timer": ("certbot-renew.service", "rhel"),
          "snap.certbot.renew.timer": ("snap.certbot.renew.service", "snap")}
SYSCONFIG = "etc/sysconfig/certbot"
SYSCONFIG_HOOKS = ("PRE_HOOK", "POST_HOOK", "RENEW_HOOK", "DEPLOY_HOOK", "CERTBOT_ARGS")
PROXY_NAMES = ("https_proxy", "http_proxy")  # requests reads either case; lower case first
RHEL_IDS = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn"}
DEBIAN_IDS = {"debian", "ubuntu"}


@dataclasses.dataclass(frozen=True)
class Timer:
    name: str
    service: str
    family: str
    unit_file: str | None  # the timer's unit file, when installed
    enabled: str | None  # its timers.target.wants link, when enabled


@dataclasses.dataclass(frozen=True)
class Cadence:
    """A scheduler that runs ``certbot renew``: where, and how often."""

    where: str  # the timer unit or crontab file:line
    typical_hours: float
    longest_hours: float

    def describe(self) -> str:
        every = f"{self.typical_hours:g} hours" if self.typical_hours < 48 else f"{self.typical_hours / 24:g} days"
        return f"{self.where} runs it every {every}, at most {self.longest_hours:g} hours apart"


@dataclasses.dataclass(frozen=True)
class Setting:
    value: str
    source: str  # file:line, or "the environment doctor runs in"


@dataclasses.dataclass(frozen=True)
class Scheduling:
    family: str  # "rhel", "debian" or "" (unknown)
    timers: tuple[Timer, ...]
    sysconfig: str  # the path of /etc/sysconfig/certbot (under the system root)
    sysconfig_values: Mapping[str, Setting]  # PRE_HOOK ... CERTBOT_ARGS, proxies; empty if absent
    timer_service: str  # the service whose environment timer_env is ("" without a timer)
    timer_env: Mapping[str, Setting]  # proxy name (lower case) -> where the timer's service gets it
    shell_env: Mapping[str, Setting]  # proxy name (lower case) -> where an interactive shell gets it


def read_limited(path: str, limit: int = 65536) -> str:
    """The first ``limit`` bytes of a file as text; "" when it cannot be read."""
    try:  # never blocks on a FIFO, never reads a device (system/readfile.py)
        return readfile.read_bytes(path, limit, truncate=True).decode("utf-8", "replace")
    except OSError:
        return ""


def _family(root: str) -> str:
    for rel in ("etc/os-release", "usr/lib/os-release"):
        text = read_limited(os.path.join(root, rel))
        if not text:
            continue
        values = {a.name: a.value for a in parse_env_file(text)}
        words = set((values.get("ID", "") + " " + values.get("ID_LIKE", "")).split())
        if words & RHEL_IDS:
            return "rhel"
        if words & DEBIAN_IDS:
            return "debian"
        return ""
    return ""


def _unit_file(root: str, unit: str) -> str | None:
    for d in UNIT_DIRS:
        path = os.path.join(root, d, unit)
        if os.path.exists(path):
            return path
    return None


def timers(root: str) -> list[Timer]:
    out = []
    for name, (service, family) in TIMERS.items():
        enabled = None
        for d in UNIT_DIRS:
            link = os.path.join(root, d, "timers.target.wants", name)
            if os.path.lexists(link):
                enabled = link
                break
        out.append(Timer(name, service, family, _unit_file(root, name), enabled))
    return out


def _proxies(assignments: list[Assignment], source: str, into: dict[str, Setting]) -> None:
    for a in assignments:
        if a.name.lower() in PROXY_NAMES and a.value:
            into[a.name.lower()] = Setting(a.value, f"{source}:{a.line}")


def _service_env(root: str, service: str) -> dict[str, Setting]:
    """Proxy settings the service runs with: DefaultEnvironment=, then the unit, its drop-ins
    (each EnvironmentFile= read from the system root), later files overriding earlier ones."""
    env: dict[str, Setting] = {}
    for path in [os.path.join(root, "etc/systemd/system.conf")] + sorted(
            glob.glob(os.path.join(root, "etc/systemd/system.conf.d/*.conf"))):
        for line_no, line in enumerate(read_limited(path).splitlines(), 1):
            if line.strip().startswith("DefaultEnvironment="):
                unit = parse_unit_environment("[Service]\nEnvironment=" + line.split("=", 1)[1])
                _proxies([dataclasses.replace(a, line=line_no) for a in unit.environment], path, env)
    unit_file = _unit_file(root, service)
    texts = []
    if unit_file:
        texts.append((unit_file, read_limited(unit_file)))
    elif service == "certbot-renew.service":  # EPEL's unit, as shipped
        texts.append(("(EPEL's certbot-renew.service)", "[Service]\nEnvironmentFile=/etc/sysconfig/certbot\n"))
    for d in UNIT_DIRS:
        for path in sorted(glob.glob(os.path.join(root, d, service + ".d", "*.conf"))):
            texts.append((path, read_limited(path)))
    files: list[str] = []
    for path, text in texts:
        unit = parse_unit_environment(text)
        _proxies(list(unit.environment), path, env)
        files += unit.files
    for name in files:
        path = os.path.join(root, name.lstrip("/"))
        _proxies(parse_env_file(read_limited(path)), path, env)
    return env


def _shell_env(root: str, environ: Mapping[str, str] | None) -> dict[str, Setting]:
    env: dict[str, Setting] = {}
    sources = [os.path.join(root, "etc/environment"), os.path.join(root, "etc/profile"),
               os.path.join(root, "etc/bash.bashrc"), os.path.join(root, "etc/bashrc")]
    sources += sorted(glob.glob(os.path.join(root, "etc/profile.d/*.sh")))
    sources += [os.path.join(root, "root", name) for name in (".bashrc", ".bash_profile", ".profile")]
    for path in sources:
        _proxies(parse_env_file(read_limited(path)), path, env)
    for name, value in (environ or {}).items():
        if name.lower() in PROXY_NAMES and value and name.lower() not in env:
            env[name.lower()] = Setting(value, "the environment doctor runs in")
    return env


def read_scheduling(root: str, environ: Mapping[str, str] | None = None) -> Scheduling:
    """``environ``: the admin's environment (doctor passes its own only for the real root)."""
    found = timers(root)
    family = _family(root) or next((t.family for t in found if t.unit_file and t.family != "snap"), "")
    sysconfig = os.path.join(root, SYSCONFIG)
    values: dict[str, Setting] = {}
    for a in parse_env_file(read_limited(sysconfig)):
        if a.name in SYSCONFIG_HOOKS or a.name.lower() in PROXY_NAMES:
            values[a.name] = Setting(a.value, f"{sysconfig}:{a.line}")
    chosen = next((t for t in found if t.enabled), None) or next((t for t in found if t.unit_file), None)
    service = chosen.service if chosen else ""
    timer_env = _service_env(root, service) if service else {}
    return Scheduling(family, tuple(found), sysconfig, values, service, timer_env, _shell_env(root, environ))


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


def _cadence(timer: Timer) -> Cadence:
    """How often an enabled timer runs, from its unit file (what the packages ship, without one)."""
    text = read_limited(timer.unit_file) if timer.unit_file else ""
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
    return Cadence(timer.name, interval, interval + delay)


def _runs_renew(command: str) -> bool:
    return bool(re.search(r"\b(certbot|letsencrypt)\b.*\brenew\b", command))


def _cron_lines(root: str) -> list[Cadence]:
    found: list[Cadence] = []
    system = [os.path.join(root, "etc/crontab")] + sorted(glob.glob(os.path.join(root, "etc/cron.d/*")))
    users = sorted(glob.glob(os.path.join(root, "var/spool/cron/crontabs/*")) +
                   glob.glob(os.path.join(root, "var/spool/cron/*")))
    for path, has_user in [(p, True) for p in system] + [(p, False) for p in users if os.path.isfile(p)]:
        for number, line in enumerate(read_limited(path).splitlines(), 1):
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
            found.append(Cadence(f"{path}:{number}", gaps.typical_hours, gaps.longest_hours))
    for period, hours in (("daily", 24.0), ("weekly", 168.0)):
        for path in sorted(glob.glob(os.path.join(root, f"etc/cron.{period}/*"))):
            if _runs_renew(read_limited(path)):
                found.append(Cadence(path, hours, hours))
    return found


def schedulers(system_root: str = "/") -> list[Cadence]:
    """Every scheduler that runs ``certbot renew``, enabled timers first."""
    return [_cadence(t) for t in timers(system_root) if t.enabled] + _cron_lines(system_root)
