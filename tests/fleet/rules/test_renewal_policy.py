from certbot_safedeploy.fleet.rules import renewal_policy as policy
from certbot_safedeploy.fleet.rules.renewal_policy import RenewalState

DAY = 86400
NOW = 1_800_000_000


def state(**kw):
    base = dict(name="a", csr_pin="P", cert_pin="P", not_before=NOW - 10 * DAY, not_after=NOW + 80 * DAY,
                force=False, consecutive_failures=0, next_attempt_at=None)
    base.update(kw)
    return RenewalState(**base)


def test_fresh_certificate_is_not_due():
    assert policy.renewal_reason(state(), NOW, 1 / 3) is None


def test_due_reasons():
    assert policy.renewal_reason(state(cert_pin=None, not_after=None), NOW, 1 / 3) == "never issued"
    assert "CSR changed" in policy.renewal_reason(state(cert_pin="OLD"), NOW, 1 / 3)
    assert "forced" in policy.renewal_reason(state(force=True), NOW, 1 / 3)
    # 90-day cert: due with 30 days left, not with 31
    assert policy.renewal_reason(state(not_before=NOW - 60 * DAY, not_after=NOW + 30 * DAY), NOW, 1 / 3)
    assert policy.renewal_reason(state(not_before=NOW - 59 * DAY, not_after=NOW + 31 * DAY), NOW, 1 / 3) is None
    assert policy.renewal_reason(state(not_before=NOW - 91 * DAY, not_after=NOW - DAY), NOW, 1 / 3) == "expired"
    # a 6-day certificate is due with 2 days left
    assert policy.renewal_reason(state(not_before=NOW - 4 * DAY, not_after=NOW + 2 * DAY), NOW, 1 / 3)


def test_backoff_grows_and_caps_within_the_failed_validation_limit():
    waits = [policy.backoff_seconds(n) for n in range(0, 9)]
    assert waits[0] == 0 and waits == sorted(waits) and waits[-1] == 24 * 3600
    # at most 4 attempts of one failing name fit in any hour (LE allows 5 failed validations)
    assert 3600 // policy.backoff_seconds(1) <= 4


def test_held_back_by_next_attempt_and_by_hourly_failures():
    waiting = state(consecutive_failures=2, next_attempt_at=NOW + 600)
    assert "next attempt in 10 min" in policy.held_back(waiting, NOW, 0, 4)
    assert policy.held_back(state(next_attempt_at=NOW - 1), NOW, 0, 4) is None
    assert "failed-validation limit" in policy.held_back(state(), NOW, 4, 4)


def test_order_budget():
    assert policy.order_budget(0, 250) == 250
    assert policy.order_budget(260, 250) == 0
