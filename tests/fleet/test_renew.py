"""fleet renew with a stand-in certbot (tests/fleet/fake_certbot.py); real certbot in the e2e test."""

import json

from certbot_safedeploy.fleet.rules import renewal_policy as policy
from certbot_safedeploy.fleet.renew import renew
from certbot_safedeploy.fleet.db.wire import DirectStore
from tests.fleet.conftest import now


def enrolled(fleet, *names, notify=""):
    cfg = fleet.server_config("web1", names=names, extra="")
    if notify:
        cfg.write_text(cfg.read_text().replace("[fleet]", f"{notify}\n[fleet]"))
    fleet.allow(cfg, "web1", *(f"{n}.example.com" for n in names))
    for n in names:
        assert fleet.cli(cfg, "enroll", n, "-d", f"{n}.example.com").returncode == 0
    return fleet.open(cfg)


def test_due_names_are_issued_once_and_then_not_due(fleet):
    config, settings, store, _ = enrolled(fleet, "a", "b")
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a", "b"] and run.exit_code == 0
    run = renew(config, settings, store, now=now())
    assert run.issued == [] and run.lines == ["nothing due among 2 name(s)"]
    # 90-day certificates come due with a third of their lifetime left
    run = renew(config, settings, store, now=now() + 61 * 86400)
    assert run.issued == ["a", "b"]


def test_one_failing_name_backs_off_and_never_blocks_the_others(fleet):
    report = fleet.root / "notify.json"
    config, settings, store, _ = enrolled(
        fleet, "a", "b", notify=f'[notify]\ncommand = ["/bin/sh", "-c", "cat >> {report}"]')
    renew(config, settings, store, now=now())
    store.force(["a", "b"])
    (fleet.ca_dir / "fail").touch()
    t = now()
    run = renew(config, settings, store, now=t, names=["a"])
    assert run.failed == ["a"] and run.exit_code == 1 and "NXDOMAIN" in run.lines[0]
    assert "next attempt in 15 min" in run.lines[0]
    sent = json.loads(report.read_text().splitlines()[0])
    assert sent["step"] == "fleet renew" and sent["subject"] == "a"
    (fleet.ca_dir / "fail").unlink()
    run = renew(config, settings, store, now=t + 60)  # a is backing off; b goes ahead
    assert run.issued == ["b"] and any("a: due" in line and "held back" in line for line in run.lines)
    calls = len((fleet.ca_dir / "log").read_text().splitlines())
    run = renew(config, settings, store, now=t + policy.backoff_seconds(1) + 1)
    assert run.issued == ["a"] and len((fleet.ca_dir / "log").read_text().splitlines()) == calls + 1


def test_backoff_grows_with_each_failure(fleet):
    config, settings, store, _ = enrolled(fleet, "a")
    (fleet.ca_dir / "fail").touch()
    t = now()
    waits = []
    for _ in range(3):
        renew(config, settings, store, now=t)
        (cand,) = store.candidates()
        waits.append(cand.state.next_attempt_at - t)
        t = cand.state.next_attempt_at
    assert waits == [900, 3600, 4 * 3600]


def test_a_certificate_for_another_key_is_never_published(fleet):
    config, settings, store, _ = enrolled(fleet, "a")
    (fleet.ca_dir / "foreign").touch()
    run = renew(config, settings, store, now=now())
    assert run.failed == ["a"] and "not the CSR's key" in run.lines[-1]
    assert DirectStore(settings).checkin("web1", ["a"], now())["a"].serial is None


def test_the_order_budget_defers_names_past_the_limit(fleet):
    config, settings, store, _ = enrolled(fleet, "a", "b", "c")
    import dataclasses
    settings = dataclasses.replace(settings, max_orders_per_3h=2)
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a", "b"] and run.exit_code == 1
    assert any(line.startswith("c: due") and "orders in 3 h" in line for line in run.lines)


def test_fleet_renew_force_needs_names(fleet):
    cfg = fleet.server_config("web1")
    r = fleet.cli(cfg, "renew", "--force")
    assert r.returncode == 2 and "--force needs" in r.stderr


def test_renew_refuses_a_csr_whose_names_are_not_all_allowed_and_notifies(fleet):
    log = fleet.root / "notified"
    config, settings, store, _ = enrolled(fleet, "a", "b", notify=f'[notify]\ncommand = ["/bin/sh", "-c", "cat >> {log}"]')
    from certbot_safedeploy.fleet import central

    central.disallow(store, "web1", ["b.example.com"])  # the central host changed its mind before issuance
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a"] and run.exit_code == 1
    assert any(line.startswith("b: REFUSED the enrollment of server 'web1': not allowed for server 'web1': "
                               "b.example.com") for line in run.lines), run.lines
    assert log.read_text().count("\"subject\": \"b\"") == 1
    run = renew(config, settings, store, now=now())  # reported again, notified once
    assert run.exit_code == 1 and log.read_text().count("\"subject\": \"b\"") == 1
    status = fleet.cli(fleet.server_config("web1", names=("a", "b")), "status")
    assert status.returncode == 1 and "REFUSED: not allowed for server 'web1': b.example.com" in status.stdout
