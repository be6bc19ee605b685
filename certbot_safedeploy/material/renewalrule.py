"""When a certbot version renews a certificate (pure: no I/O).

certbot renews a lineage when ``notAfter - now < interval`` (``storage.py``,
``RenewableCert.should_autorenew``).  The interval is the renewal config's
``renew_before_expiry`` when set; otherwise it depends on the certbot version:

* before 4.0: a fixed ``"30 days"`` (``self.configuration.get("renew_before_expiry", "30 days")``),
  whatever the lifetime, so a 6-day certificate is renewed at every run;
* 4.0 and later: a third of the lifetime, or half of it when the lifetime is under
  10 days (certbot 4.0 changelog, "renew when 1/3 of the lifetime remains").

certbot parses ``renew_before_expiry`` with ``parsedatetime`` ("30 days",
"2 weeks", "36 hours"); this module reads the same units.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

NEW_RULE_VERSION = (4, 0)
_UNITS = {"second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"2.1.0"`` -> (2, 1, 0); None when ``text`` is not a dotted version."""
    match = re.match(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", text or "")
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def parse_interval_days(text: str) -> float | None:
    """``renew_before_expiry`` in days ("30 days", "2w", "36 hours"); None when unreadable."""
    match = _INTERVAL.match((text or "").lower())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).rstrip("s") or "day"
    aliases = {"d": "day", "w": "week", "h": "hour", "hr": "hour", "m": "minute", "min": "minute"}
    unit = aliases.get(unit, unit)
    return number * _UNITS[unit] if unit in _UNITS else None


@dataclasses.dataclass(frozen=True)
class RenewalRule:
    """The interval before expiry at which certbot renews, and where it comes from."""

    window_days: float
    source: str  # "renew_before_expiry = 10 days", "certbot 2.1.0: 30 days before expiry", ...


def renewal_rule(version: tuple[int, ...] | None, lifetime_days: float,
                 renew_before_expiry: str = "") -> RenewalRule:
    """The rule of certbot ``version`` (None: unknown, assume the older, fixed rule)."""
    override = parse_interval_days(renew_before_expiry) if renew_before_expiry else None
    if override is not None:
        return RenewalRule(override, f"renew_before_expiry = {renew_before_expiry.strip()}")
    name = "certbot " + ".".join(map(str, version)) if version else "certbot of unknown version"
    if version is not None and version[:2] >= NEW_RULE_VERSION:
        if lifetime_days < 10:
            return RenewalRule(lifetime_days / 2, f"{name}: half the lifetime (under 10 days) before expiry")
        return RenewalRule(lifetime_days / 3, f"{name}: a third of the lifetime before expiry")
    return RenewalRule(30.0, f"{name}: 30 days before expiry (the rule before 4.0)")


def renewal_time(not_before: datetime.datetime, not_after: datetime.datetime, version: tuple[int, ...] | None,
                 renew_before_expiry: str = "") -> datetime.datetime:
    """The first moment certbot ``version`` considers the certificate due."""
    lifetime = (not_after - not_before).total_seconds() / 86400
    rule = renewal_rule(version, lifetime, renew_before_expiry)
    return not_after - datetime.timedelta(days=rule.window_days)
