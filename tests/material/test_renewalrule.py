"""certbot's renewal rule per version (material/renewalrule.py)."""

import datetime

import pytest

from certbot_safedeploy.material.renewalrule import parse_interval_days, parse_version, renewal_rule, renewal_time


@pytest.mark.parametrize("text, days", [("30 days", 30), ("2 weeks", 14), ("36 hours", 1.5), ("10d", 10),
                                        ("1 day", 1), ("soon", None), ("", None)])
def test_intervals(text, days):
    assert parse_interval_days(text) == days


@pytest.mark.parametrize("version, lifetime, window", [
    ((1, 21, 0), 6, 30), ((2, 1, 0), 200, 30), ((2, 9, 0), 45, 30), (None, 90, 30),
    ((4, 0, 0), 6, 3), ((4, 0, 0), 90, 30), ((5, 8, 0), 45, 15), ((5, 8, 0), 9.9, 4.95)])
def test_windows(version, lifetime, window):
    assert renewal_rule(version, lifetime).window_days == pytest.approx(window)


def test_override_and_time():
    assert renewal_rule((5, 8), 90, "7 days").window_days == 7
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    end = start + datetime.timedelta(days=45)
    assert renewal_time(start, end, parse_version("4.0.0")) == end - datetime.timedelta(days=15)
    assert parse_version("2.1.0") == (2, 1, 0) and parse_version("x") is None
