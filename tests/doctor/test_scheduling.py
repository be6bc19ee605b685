"""Scheduler frequency (doctor/scheduling.py) and the installed certbot (doctor/certbotversion.py)."""

from certbot_safedeploy.doctor.certbotversion import installed_certbot
from certbot_safedeploy.doctor.scheduling import calendar_hours, schedulers


def enable(root, unit, text=None, unit_dir="usr/lib/systemd/system"):
    wants = root / "etc/systemd/system/timers.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / unit).symlink_to(f"/{unit_dir}/{unit}")
    if text is not None:
        (root / unit_dir).mkdir(parents=True, exist_ok=True)
        (root / unit_dir / unit).write_text(text)


def test_timers_twice_daily_with_random_delay(tmp_path):
    enable(tmp_path, "certbot.timer", "[Timer]\nOnCalendar=*-*-* 00,12:00:00\nRandomizedDelaySec=43200\n")
    enable(tmp_path, "certbot-renew.timer", "[Timer]\nOnCalendar=*-*-* 00/12:00:00\nRandomizedDelaySec=12hours\n")
    enable(tmp_path, "snap.certbot.renew.timer")  # unit not readable: the snap's twice a day
    found = {s.where: (s.typical_hours, s.longest_hours) for s in schedulers(str(tmp_path))}
    assert found == {"certbot.timer": (12, 24), "certbot-renew.timer": (12, 24), "snap.certbot.renew.timer": (12, 24)}


def test_cron_lines_and_debians_guard(tmp_path):
    (tmp_path / "etc/cron.d").mkdir(parents=True)
    (tmp_path / "etc/cron.d/certbot").write_text(
        "0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && certbot -q renew\n")
    (tmp_path / "etc/cron.d/mine").write_text("# weekly\n0 3 * * 1 root /usr/bin/certbot renew --quiet\n")
    (tmp_path / "etc/cron.weekly").mkdir()
    (tmp_path / "etc/cron.weekly/le").write_text("#!/bin/sh\ncertbot renew\n")
    found = [(s.where, s.typical_hours) for s in schedulers(str(tmp_path))]
    assert found == [(f"{tmp_path}/etc/cron.d/mine:2", 168), (f"{tmp_path}/etc/cron.weekly/le", 168)]


def test_calendar_forms():
    assert calendar_hours("daily") == 24 and calendar_hours("*-*-* 00,12:00:00") == 12
    assert calendar_hours("*-*-* 00/6:00") == 6 and calendar_hours("Mon *-*-* 00:00:00") is None


def test_installed_certbot_from_package_metadata_and_snap(tmp_path):
    assert installed_certbot(str(tmp_path)) is None
    (tmp_path / "usr/lib/python3/dist-packages/certbot-2.1.0.egg-info").mkdir(parents=True)
    assert installed_certbot(str(tmp_path))[0] == "2.1.0"
    snap = tmp_path / "snap/certbot/current/meta"
    snap.mkdir(parents=True)
    (snap / "snap.yaml").write_text("name: certbot\nversion: '5.8.0'\n")
    assert installed_certbot(str(tmp_path)) == ("5.8.0", "snap certbot")
