"""Choosing the renewal time and deciding (RFC 9773 section 4.2)."""

import random

from certbot_safedeploy.ari.schedule import choose_time, failure_backoff, keep_or_choose, verdict
from certbot_safedeploy.syntax.renewalinfo import Window

W = Window(1000.0, 2000.0)


def test_choice_is_uniform_inside():
    rng = random.Random(7)
    picks = [choose_time(W, rng) for _ in range(2000)]
    assert all(1000 <= p < 2000 for p in picks)
    assert 1400 < sum(picks) / len(picks) < 1600
    assert min(picks) < 1050 and max(picks) > 1950


def test_choice_kept_while_window_unchanged():
    assert keep_or_choose(W, Window(1000.0, 2000.0), 1234.0) == 1234.0
    moved = Window(100.0, 200.0)
    assert 100 <= keep_or_choose(moved, W, 1234.0, random.Random(1)) < 200


def test_verdicts():
    assert not verdict(W, 1500, 500, first_seen=True).due
    assert not verdict(W, 1500, 1200, first_seen=False).due
    assert verdict(W, 1500, 1600, first_seen=False).due
    assert verdict(W, 1500, 2000, first_seen=False).due  # ended
    v = verdict(W, 1500, 1200, first_seen=True)
    assert v.due and "had started" in v.why
    assert verdict(W, 1500, 1200, first_seen=False, next_wake=1600).due
    assert not verdict(W, 1500, 1200, first_seen=False, next_wake=1400).due


def test_failure_backoff_grows_and_caps():
    waits = [failure_backoff(n) for n in range(1, 9)]
    assert waits == sorted(waits) and waits[0] == 900 and waits[-1] == 86400
