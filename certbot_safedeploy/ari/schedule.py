"""When to ask again and when to renew (RFC 9773 sections 4.2 and 4.3), pure.

Times are epoch seconds.  The renewal time is chosen once per window, uniformly at
random inside it (section 4.2), and kept across runs until the CA moves the window.
A run renews when that time has passed, or when the window has already started
(the CA moved it into the past: renew now).  A failed check is retried with an
exponential back-off (section 4.3.3), never more often than once a minute.
"""

from __future__ import annotations

import dataclasses
import random

from certbot_safedeploy.syntax.renewalinfo import MAX_RETRY_AFTER, MIN_RETRY_AFTER, Window, format_time

FAILURE_BACKOFF = (MIN_RETRY_AFTER * 15, 3600, 4 * 3600, 12 * 3600, MAX_RETRY_AFTER)


@dataclasses.dataclass(frozen=True)
class Verdict:
    due: bool
    why: str


def choose_time(window: Window, rng: random.Random | None = None) -> float:
    """A uniform random time in [start, end) (RFC 9773 section 4.2)."""
    return window.start + (rng or random.SystemRandom()).random() * (window.end - window.start)


def keep_or_choose(window: Window, old_window: Window | None, old_chosen: float | None,
                   rng: random.Random | None = None) -> float:
    """The stored choice while the window is unchanged; a new one when the CA moved it."""
    if (old_window is not None and old_chosen is not None and (old_window.start, old_window.end) ==
            (window.start, window.end) and window.start <= old_chosen <= window.end):
        return old_chosen
    return choose_time(window, rng)


def verdict(window: Window, chosen: float, now: float, *, first_seen: bool,
            next_wake: float | None = None) -> Verdict:
    """Whether to renew now.

    ``first_seen``: this window was not known before this check; a new window that has
    already started means the CA moved it up (a revocation): renew now, whatever time
    was drawn.  ``next_wake``: when this job runs next, if known (section 4.2, step 4).
    """
    if window.end <= now:
        return Verdict(True, f"the window {window.text()} lies in the past")
    if first_seen and window.start <= now:
        return Verdict(True, f"the window {window.text()} had started when the CA announced it")
    if chosen <= now:
        return Verdict(True, f"the chosen time {format_time(chosen)} in the window {window.text()} has passed")
    if next_wake is not None and chosen < next_wake:
        return Verdict(True, f"the chosen time {format_time(chosen)} comes before the next run")
    return Verdict(False, f"renew at {format_time(chosen)} (window {window.text()})")


def failure_backoff(failures: int) -> int:
    """Seconds to wait after the ``failures``-th failed check in a row (1-based)."""
    if failures <= 0:
        return MIN_RETRY_AFTER
    return FAILURE_BACKOFF[min(failures, len(FAILURE_BACKOFF)) - 1]
