"""Issue 20 on SQLite: fair shares, strict names, key changes as events, output that cannot be forged.

The same attacks through a compromised server's own PostgreSQL role run in
tests/integration/test_fleet_hostile.py.
"""

import dataclasses
import json

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.fleet import central
from certbot_safedeploy.fleet.db.wire import DirectStore
from certbot_safedeploy.fleet.renew import renew
from certbot_safedeploy.fleet.rules import csr
from certbot_safedeploy.fleet.rules.renewal_policy import round_robin
from tests.fleet import hostile_csr
from tests.fleet.conftest import now
from tests.fleet.test_hostile_rows import sql


def test_round_robin_takes_one_per_server_per_turn():
    items = [("b", 1), ("a", 1), ("a", 2), ("a", 3), ("c", 1), ("b", 2)]
    assert round_robin(items, lambda i: i[0]) == [("a", 1), ("b", 1), ("c", 1), ("a", 2), ("b", 2), ("a", 3)]


def _two_servers(fleet, flood: int):
    """web1 enrolls ``flood`` names that sort first, web2 one name; both due."""
    flooder = [f"a{i:03d}" for i in range(flood)]
    cfg1 = fleet.server_config("web1", names=tuple(flooder))
    cfg2 = fleet.server_config("web2", names=("zzz",))
    fleet.allow(cfg1, "web1", *(f"{n}.example.com" for n in flooder))
    fleet.allow(cfg2, "web2", "zzz.example.com")
    for n in flooder:
        assert fleet.cli(cfg1, "enroll", n, "-d", f"{n}.example.com").returncode == 0
    assert fleet.cli(cfg2, "enroll", "zzz", "-d", "zzz.example.com").returncode == 0
    return fleet.open(cfg2)


def test_one_servers_flood_defers_only_its_own_names(fleet):
    config, settings, store, _ = _two_servers(fleet, 4)
    settings = dataclasses.replace(settings, max_orders_per_3h=2)
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a000", "zzz"], run.lines  # one order each, not the first two names
    assert sum("orders in 3 h reached" in line for line in run.lines) == 3


def test_more_enrollments_than_the_limit_are_refused_in_the_accept_step(fleet):
    config, settings, store, _ = _two_servers(fleet, 3)
    settings = dataclasses.replace(settings, max_enrollments_per_server=2)
    run = renew(config, settings, store, now=now())
    assert sorted(run.issued) == ["a000", "a001", "zzz"]
    assert any(line.startswith("a002: REFUSED") and "max_enrollments_per_server" in line for line in run.lines)


def test_a_ca_that_returns_extra_or_recased_names_is_never_published(fleet):
    config, settings, store, _ = _two_servers(fleet, 1)
    for day, names in enumerate(("zzz.example.com victim.example.com", "ZZZ.example.com", "a000.example.com")):
        (fleet.ca_dir / "names").write_text(names)
        run = renew(config, settings, store, now=now() + day * 86400, names=["zzz"])  # past each back-off
        assert run.failed == ["zzz"] and "names are not the CSR's" in run.lines[-1], run.lines
        assert DirectStore(settings).checkin("web2", ["zzz"], now())["zzz"].serial is None


def test_a_csr_with_a_hidden_second_extension_request_is_refused(fleet):
    config, settings, store, _ = _two_servers(fleet, 1)
    key = serialization.load_pem_private_key((fleet.root / "web2/state/fleet/zzz/privkey.pem").read_bytes(), None)
    hostile = hostile_csr.two_extension_requests(key, ["zzz.example.com"], ["a000.example.com"])
    sql(fleet, f"UPDATE enrollments SET csr_pem = '{hostile}' WHERE server = 'web2'")
    calls = (fleet.ca_dir / "log").read_text() if (fleet.ca_dir / "log").exists() else ""
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a000"]  # the CA saw one CSR: web1's, never web2's hidden list
    assert len((fleet.ca_dir / "log").read_text().splitlines()) == len(calls.splitlines()) + 1
    assert any(line.startswith("zzz: REFUSED") and "2 extension requests" in line for line in run.lines)


def _rekey(fleet, cfg, name):
    r = fleet.cli(cfg, "rekey", name)
    assert r.returncode == 0, r.stderr
    return [line.split(": ", 1)[1] for line in r.stdout.splitlines() if "pin-sha256" in line]


def test_a_key_change_is_notified_with_both_pins_and_can_wait_for_approval(fleet):
    log = fleet.root / "notified"
    cfg = fleet.server_config("web1", names=("site",))
    cfg.write_text(cfg.read_text().replace("[fleet]", f'[notify]\ncommand = ["/bin/sh", "-c", '
                                                      f'"cat >> {log}; echo >> {log}"]\n[fleet]'))
    fleet.allow(cfg, "web1", "www.example.com")
    assert fleet.cli(cfg, "enroll", "site", "-d", "www.example.com").returncode == 0
    config, settings, store, _ = fleet.open(cfg)
    assert renew(config, settings, store, now=now()).issued == ["site"]
    old, new = _rekey(fleet, cfg, "site")
    settings = dataclasses.replace(settings, approve_key_changes=True)
    run = renew(config, settings, store, now=now())
    assert run.issued == [] and any("awaits approval" in line and old in line and new in line for line in run.lines)
    sent = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(s.get("old_pin") == old and s.get("new_pin") == new for s in sent)
    assert fleet.cli(cfg, "pull").returncode == 1  # the server is told it waits, and keeps its old cert
    r = fleet.cli(cfg, "approve", "site", "--to", "web1")
    assert r.returncode == 0 and new in r.stdout, r.stderr
    run = renew(config, settings, store, now=now())
    assert run.issued == ["site"], run.lines
    assert fleet.cli(cfg, "pull").returncode == 0  # the rekeyed certificate goes live
    settings = dataclasses.replace(settings, approve_key_changes=False)
    old2, new2 = _rekey(fleet, cfg, "site")
    count = len(log.read_text().splitlines())
    run = renew(config, settings, store, now=now())  # no approval needed, but notified all the same
    assert run.issued == ["site"] and any(f"({old2} -> {new2})" in line for line in run.lines)
    assert new2 in "".join(log.read_text().splitlines()[count:])


def test_racing_takeovers_move_a_name_only_to_the_approved_server(fleet):
    cfgs = {s: fleet.server_config(s, names=("site",)) for s in ("web1", "web2", "web3")}
    for s, cfg in cfgs.items():
        fleet.allow(cfg, s, "www.example.com")
    assert fleet.cli(cfgs["web1"], "enroll", "site", "-d", "www.example.com").returncode == 0
    config, settings, store, _ = fleet.open(cfgs["web1"])
    renew(config, settings, store, now=now())
    for s in ("web2", "web3"):
        assert fleet.cli(cfgs[s], "enroll", "site", "-d", "www.example.com", "--takeover").returncode == 0
    assert fleet.cli(cfgs["web1"], "approve", "site", "--to", "web3").returncode == 0
    run = renew(config, settings, store, now=now())
    assert "site: moved from server 'web1' to 'web3' (takeover approved)" in run.lines
    renew(config, settings, store, now=now())  # web2's request is judged again: still not approved
    rows = {r["server"]: r for r in store.status_rows()}
    assert rows["web3"]["owner"] == "web3" and "web1" not in rows
    assert rows["web2"]["refusal"] == "takeover awaits the central host's approval"  # names no holder
    assert "fleet approve site --to web2" in rows["web2"]["refusal_detail"]


def test_escape_sequences_in_stored_text_are_escaped_in_status_and_json_stays_json(fleet):
    from tests.fleet.test_pull import setup_issued

    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    hostile = "x\x1b[1A\x1b[2K\rsite  web9  ok\x00\u202e"
    engine = sa.create_engine(fleet.store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE server_reports SET outcome = :o, served_serial = :o, detail = :o"),
                     {"o": hostile})
    engine.dispose()
    table = fleet.cli(cfg, "status")
    assert "\x1b" not in table.stdout and "\x00" not in table.stdout and "\r" not in table.stdout
    assert "\u202e" not in table.stdout and "\\x1b[1A" in table.stdout
    rows = json.loads(fleet.cli(cfg, "status", "--json").stdout)
    assert rows[0]["served_serial"] == hostile  # JSON keeps the value, escaped by JSON itself


def test_a_hostile_name_in_renew_output_is_escaped(fleet):
    config, settings, store, _ = _two_servers(fleet, 1)
    sql(fleet, "UPDATE enrollments SET name = 'zz' || char(27) || '[2J' WHERE server = 'web2'",
        "UPDATE server_reports SET name = 'zz' || char(27) || '[2J' WHERE server = 'web2'")
    r = fleet.cli(fleet.server_config("web2", names=("zzz",)), "renew")
    assert "\x1b" not in r.stdout + r.stderr and "zz\\x1b[2J" in r.stdout + r.stderr


def test_key_pins_match_the_csr_helper():
    key = csr.generate_key("ec")
    assert csr.read_csr(csr.build_csr(key, ("a.example",))).pin == csr.key_pin(key)
