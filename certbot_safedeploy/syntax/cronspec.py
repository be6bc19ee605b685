"""How often a cron schedule runs (pure): crontab(5) minute, hour and day fields.

:func:`cron_gaps` expands ``minute hour day-of-month month day-of-week`` (numbers,
``*``, ``a-b``, ``*/n``, ``a-b/n``, lists, day names, ``@daily``-style macros) over
one week and returns the typical and the longest interval between two runs, in
hours.  A day-of-month restriction is approximated over a 31-day month; the month
field is taken as "every month".
"""

from __future__ import annotations

import dataclasses

MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}


class CronError(ValueError):
    """Not a schedule this module can read."""


@dataclasses.dataclass(frozen=True)
class Gaps:
    typical_hours: float  # a week divided by the number of runs in it
    longest_hours: float  # the longest wait between two runs


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else (1 if not step_text else 0)
        if step == 0:
            raise CronError(f"bad step in {text!r}")
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")

            def number(word: str) -> int:
                if names and word in names:
                    return names[word]
                if not word.isdigit():
                    raise CronError(f"{word!r} is not a number")
                return int(word)

            start = number(first)
            end = number(last) if last else (high if step_text else start)
        if names is not None:  # day of week: 7 is Sunday too
            start, end = min(start, 7), min(end, 7)
        if not low <= start <= end <= (7 if names is not None else high):
            raise CronError(f"{text!r} is out of range {low}-{high}")
        values.update(v % 7 if names is not None else v for v in range(start, end + 1, step))
    return values


def cron_gaps(schedule: str) -> Gaps:
    """Intervals of the schedule's first five fields (or macro); raises :class:`CronError`."""
    words = schedule.split()
    if words and words[0].startswith("@"):
        if words[0] == "@reboot" or words[0] not in MACROS:
            raise CronError(f"{words[0]} is not a periodic schedule")
        words = MACROS[words[0]].split()
    if len(words) < 5:
        raise CronError("a schedule has five fields")
    minutes, hours = _field(words[0], 0, 59), _field(words[1], 0, 23)
    dom_all, dow_all = words[2] == "*", words[4] == "*"
    doms = _field(words[2], 1, 31)
    dows = _field(words[4], 0, 6, _DAYS)
    if dom_all or not dow_all:  # both restricted: cron runs on either; approximated by the weekdays
        span_days, days = 7, sorted(dows if not dow_all else range(7))
    else:
        span_days, days = 31, sorted(d - 1 for d in doms)
    times = sorted(d * 1440 + h * 60 + m for d in days for h in hours for m in minutes)
    if not times:
        raise CronError("the schedule never runs")
    span = span_days * 1440
    gaps = [b - a for a, b in zip(times, times[1:])] + [times[0] + span - times[-1]]
    return Gaps(span / len(times) / 60, max(gaps) / 60)
