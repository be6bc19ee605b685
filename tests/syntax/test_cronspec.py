import pytest

from certbot_safedeploy.syntax.cronspec import CronError, cron_gaps


@pytest.mark.parametrize("schedule, typical, longest", [
    ("0 */12 * * *", 12, 12), ("0 3 * * 1", 168, 168), ("@daily", 24, 24), ("17 2,14 * * *", 12, 12),
    ("0 3 * * mon,thu", 84, 96), ("30 4 * * 7", 168, 168), ("0 0 1 * *", 744, 744)])
def test_gaps(schedule, typical, longest):
    gaps = cron_gaps(schedule)
    assert (gaps.typical_hours, gaps.longest_hours) == (typical, longest)


@pytest.mark.parametrize("schedule", ["@reboot", "0 3 * *", "x 3 * * *", "0 25 * * *", "0 */0 * * *"])
def test_unreadable_schedules_raise(schedule):
    with pytest.raises(CronError):
        cron_gaps(schedule)
