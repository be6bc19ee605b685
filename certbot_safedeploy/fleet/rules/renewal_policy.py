"""When to renew and when to hold back (pure: no I/O, times are epoch seconds).

Renewal is due when a name was never issued, when its CSR changed (rekey or a
new domain list), when an operator forced it, or when at most ``fraction`` of
the certificate's lifetime is left (certbot's own default is one third).

Back-off keeps a failing name inside the CA's rate limits. Let's Encrypt
allows 5 failed validations per identifier per account per hour and 300 new
orders (RFC 8555 section 7.4) per account per 3 hours; the defaults stay
below both. A failing name waits 15 min, 1 h, 4 h, 12 h, then 24 h between
attempts, so one broken name costs at most 4 orders in its first hour and
never delays the others.
"""

from __future__ import annotations

import dataclasses

BACKOFF_SECONDS = (15 * 60, 3600, 4 * 3600, 12 * 3600, 24 * 3600)
# with an ARI window, the own fraction still applies this close to expiry (the CA's answer may be stale)
ARI_SAFETY_SECONDS = 2 * 86400
ORDER_WINDOW = 3 * 3600
FAILURE_WINDOW = 3600


@dataclasses.dataclass(frozen=True)
class RenewalState:
    """The columns of one certificate row that renewal decisions read."""

    name: str
    csr_pin: str
    cert_pin: str | None
    not_before: int | None
    not_after: int | None
    force: bool
    consecutive_failures: int
    next_attempt_at: int | None


def renewal_reason(state: RenewalState, now: float, fraction: float,
                   ari: tuple[bool, str] | None = None) -> str | None:
    """Why ``state`` needs a new certificate now, or None if it does not.

    ``ari``: (due, why) from the CA's renewal window for the current certificate
    (RFC 9773), when the CA offers one: it then replaces the own ``fraction`` rule, which
    still applies in the last :data:`ARI_SAFETY_SECONDS` before expiry.
    """
    if state.cert_pin is None or state.not_after is None or state.not_before is None:
        return "never issued"
    if state.cert_pin != state.csr_pin:
        return "the CSR changed (rekey or new domains)"
    if state.force:
        return "renewal forced by an operator"
    lifetime = max(state.not_after - state.not_before, 1)
    left = state.not_after - now
    if left <= 0:
        return "expired"
    if ari is not None:
        due, why = ari
        if due:
            return f"the CA's renewal window (ARI): {why}"
        if left > ARI_SAFETY_SECONDS:
            return None
    if left <= lifetime * fraction:
        return f"{left / 86400:.1f} days of {lifetime / 86400:.0f} left (renew at {fraction:.0%})"
    return None


def backoff_seconds(consecutive_failures: int) -> int:
    """Wait after the ``consecutive_failures``-th failure in a row (1-based)."""
    if consecutive_failures <= 0:
        return 0
    return BACKOFF_SECONDS[min(consecutive_failures, len(BACKOFF_SECONDS)) - 1]


def held_back(state: RenewalState, now: float, failures_last_hour: int,
              max_failures_per_hour: int) -> str | None:
    """Why a due name must not be tried in this run, or None."""
    if state.next_attempt_at is not None and now < state.next_attempt_at:
        wait = int(state.next_attempt_at - now)
        return (f"backing off after {state.consecutive_failures} failure(s): next attempt in "
                f"{wait // 60} min")
    if failures_last_hour >= max_failures_per_hour:
        return (f"{failures_last_hour} failed attempt(s) in the last hour: "
                f"the CA's failed-validation limit is near")
    return None


def order_budget(orders_in_window: int, max_orders: int) -> int:
    """How many new orders this run may still place."""
    return max(max_orders - orders_in_window, 0)
