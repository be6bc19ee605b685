from certbot_safedeploy.fleet.rules.view import judge, render_table

NOW = 1_800_000_000


def row(**kw):
    base = dict(name="site", server="web1", serial="02", not_after=NOW + 60 * 86400, issued_at=NOW - 3600,
                installed_serial="02", served_serial="02", last_pull_at=NOW - 600, outcome="deployed",
                consecutive_failures=0, last_error=None, cert_pin="P", csr_pin="P")
    base.update(kw)
    return base


def test_a_server_serving_the_published_serial_is_ok():
    assert judge(row(), NOW, 26).ok


def test_a_server_still_serving_the_old_serial_is_stale():
    e = judge(row(served_serial="01", installed_serial="01", outcome="rolled back"), NOW, 26)
    assert e.problems == ("STALE: serves 01, published 02 (rolled back)",)
    assert e.as_dict()["state"] == "stale"


def test_silence_failures_expiry_and_rekey_are_problems():
    assert judge(row(last_pull_at=NOW - 27 * 3600), NOW, 26).problems == ("STALE: last pull 27h ago",)
    assert judge(row(last_pull_at=None, served_serial=None, installed_serial=None), NOW, 26).problems == (
        "STALE: never pulled",)
    assert "RENEWAL FAILING x3" in judge(row(consecutive_failures=3, last_error="x"), NOW, 26).problems[0]
    assert judge(row(not_after=NOW + 86400), NOW, 26).problems == ("expires in 24h",)
    assert "rekey pending" in judge(row(cert_pin="OLD"), NOW, 26).problems[0]
    assert judge(row(server=None, last_pull_at=None), NOW, 26).problems == ("no server has pulled this name",)


def test_without_a_probe_the_installed_serial_counts():
    assert judge(row(served_serial=None), NOW, 26).ok


def test_table_marks_problem_rows():
    entries = [judge(row(), NOW, 26), judge(row(name="b", served_serial="01"), NOW, 26)]
    text = render_table(entries, NOW)
    lines = text.splitlines()
    assert lines[0].startswith("NAME") and lines[1].endswith("ok") and "!! STALE" in lines[2]
    assert lines[-1] == "2 name/server pair(s), 1 with problems"
    assert "\033[1;31m" in render_table(entries, NOW, color=True)
