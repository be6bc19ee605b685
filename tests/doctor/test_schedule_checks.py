"""doctor's schedule check: when each lineage really renews, per certbot version and scheduler.

The verdicts below are each certbot's own rule, from its ``certbot/_internal/storage.py``:

* certbot 1.21 and 2.1, ``RenewableCert.should_autorenew``::

      interval = self.configuration.get("renew_before_expiry", "30 days")
      expiry = crypto_util.notAfter(self.version("cert", self.latest_common_version()))
      now = datetime.datetime.now(pytz.UTC)
      if expiry < add_time_interval(now, interval):
          return True

  i.e. renew when fewer than 30 days are left, whatever the lifetime;
* certbot 4.0 and 5.x: with ``renew_before_expiry`` unset, the interval is a third of
  the lifetime (notAfter - notBefore), or half of it for lifetimes under 10 days
  (certbot 4.0.0 CHANGELOG, "renew when 1/3 of the lifetime remains, 1/2 for short-lived");
  ``renew_before_expiry`` still overrides it.

Schedulers: Debian's ``certbot.timer`` (``OnCalendar=*-*-* 00,12:00:00``,
``RandomizedDelaySec=43200``: every 12 hours, at most 24 apart) and a weekly cron line
(``0 3 * * 1``: 168 hours).  "every run": lifetime - interval < window.  "late": the
window is not longer than the longest gap.
"""

import datetime

import pytest

from certbot_safedeploy.doctor.schedule_checks import LineageTiming, check_timing
from certbot_safedeploy.doctor.scheduling import Cadence
from tests.pki import DAY, NOW

TIMER = Cadence("certbot.timer", 12, 24)
WEEKLY = Cadence("/etc/cron.d/renew:1", 168, 168)
VERSIONS = ("1.21.0", "2.1.0", "4.0.0", "5.8.0")
LIFETIMES = (6, 45, 90, 200)
# (scheduler, version) -> verdicts for lifetimes 6, 45, 90, 200
EXPECTED = {
    ("timer", "1.21.0"): ("every", "ok", "ok", "ok"),  # 30 days: 6 - 0.5 < 30
    ("timer", "2.1.0"): ("every", "ok", "ok", "ok"),
    ("timer", "4.0.0"): ("ok", "ok", "ok", "ok"),  # 3, 15, 30, 66.7 days
    ("timer", "5.8.0"): ("ok", "ok", "ok", "ok"),
    ("weekly", "1.21.0"): ("every+late", "ok", "ok", "ok"),  # 6 - 7 < 30, and 6 days <= 7 days
    ("weekly", "2.1.0"): ("every+late", "ok", "ok", "ok"),
    ("weekly", "4.0.0"): ("every+late", "ok", "ok", "ok"),  # 6 - 7 < 3, and 3 days <= 7 days; 15 > 7
    ("weekly", "5.8.0"): ("every+late", "ok", "ok", "ok"),
}


def timing(version, lifetime, before=""):
    return LineageTiming("example.com", "/etc/letsencrypt/renewal/example.com.conf", version, before,
                         NOW - datetime.timedelta(hours=1), NOW - datetime.timedelta(hours=1) + lifetime * DAY)


def verdict(findings):
    kinds = ["every" if "every run" in f.message else "late" for f in findings if f.severity.value == "error"]
    return "+".join(kinds) or "ok"


@pytest.mark.parametrize("scheduler", ["timer", "weekly"])
@pytest.mark.parametrize("version", VERSIONS)
def test_matrix_of_versions_lifetimes_and_schedulers(scheduler, version):
    cadence = TIMER if scheduler == "timer" else WEEKLY
    got = tuple(verdict(check_timing(timing(version, days), None, [cadence])) for days in LIFETIMES)
    assert got == EXPECTED[(scheduler, version)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("days", LIFETIMES)
def test_the_given_fix_line_makes_it_healthy(version, days):
    for cadence in (TIMER, WEEKLY):
        findings = check_timing(timing(version, days), None, [cadence])
        if verdict(findings) == "ok":
            continue
        fix = findings[0].fix
        if "renew_before_expiry = " not in fix:
            assert "run certbot renew at least every" in fix  # no window works: run more often
            continue
        value = fix.split("renew_before_expiry = ", 1)[1].split("'", 1)[0]
        assert verdict(check_timing(timing(version, days, value), None, [cadence])) == "ok", value


def test_message_names_the_certbot_its_rule_and_the_scheduler():
    (err,) = check_timing(timing("2.1.0", 6), ("2.1.0", "/usr/lib/python3/dist-packages/certbot-2.1.0.egg-info"),
                          [TIMER])
    assert "renewed by certbot 2.1.0 when 30 days are left" in err.message
    assert "30 days before expiry (the rule before 4.0)" in err.message
    assert "14 orders a week, over Let's Encrypt's 5 duplicate certificates a week" in err.message
    assert err.fix == ("add the line 'renew_before_expiry = 3 days' at the top of "
                       "/etc/letsencrypt/renewal/example.com.conf")


def test_installed_certbot_wins_over_the_renewal_config_version():
    findings = check_timing(timing("2.1.0", 6), ("4.0.0", "/usr/lib/python3/dist-packages/certbot-4.0.0.dist-info"),
                            [TIMER])
    assert verdict(findings) == "ok" and "renewal config written by 2.1.0" in findings[0].message


def test_renew_before_expiry_overrides_the_version_rule():
    assert verdict(check_timing(timing("5.8.0", 90, "90 days"), None, [TIMER])) == "every"


def test_doctor_end_to_end_with_timer_and_installed_certbot(etc):
    (etc.root / "usr/lib/python3/dist-packages/certbot-2.1.0.egg-info").mkdir(parents=True)
    unit = etc.root / "lib/systemd/system/certbot.timer"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Timer]\nOnCalendar=*-*-* 00,12:00:00\nRandomizedDelaySec=43200\nPersistent=true\n")
    etc.timer()
    etc.lineage("short.example", days_left=5.9)  # 90-day lifetime in the bed; make a 6-day one below
    from tests.pki import write_lineage

    leaf = etc.pki.leaf("short.example", start=NOW - datetime.timedelta(hours=1), end=NOW + 6 * DAY)
    write_lineage(str(etc.le), "short.example", leaf, [etc.pki.intermediate], version=2)
    found = [f for f in etc.findings() if f[1] == "renewal-schedule"]
    assert [s for s, _, _ in found] == ["error"]
    assert "certbot.timer runs it every 12 hours, at most 24 hours apart" in found[0][2]
    assert "renews on every run" in found[0][2]


def test_doctor_reads_a_weekly_cron_line(etc):
    etc.cron("renew", "0 3 * * 1 root certbot -q renew\n")
    etc.lineage("weekly.example", top="version = 4.0.0")
    found = [f for f in etc.findings() if f[1] == "renewal-schedule"]
    assert found and found[0][0] == "ok" and "every 7 days" in found[0][2]
