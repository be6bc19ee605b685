"""Store logic on SQLite (the PostgreSQL path runs in tests/integration/test_fleet_e2e.py)."""

import hashlib
import threading

import pytest
import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet import central
from certbot_safedeploy.fleet.rules import csr
from certbot_safedeploy.fleet.db import migrations
from certbot_safedeploy.fleet.rules.issued import IssuedCertificate
from certbot_safedeploy.config.fleet_section import settings_from_table
from certbot_safedeploy.fleet.db.store import ServerReport, Store
from certbot_safedeploy.fleet.db.wire import DirectStore


def enroll(store, name="site", server="web1", domains=("a.example",), **kw):
    """A server's enrollment with a real CSR, then the central host's acceptance; returns the pin."""
    key = csr.generate_key("ec")
    pin = csr.key_pin(key)
    store.enroll(name, list(domains), "ec", server, csr.build_csr(key, tuple(domains)).decode(), pin, 100, **kw)
    central.accept(store, 100)
    return pin


def publish(store, pin, name="site", serial="01", now=200):
    issued = IssuedCertificate(f"CERT-{serial}", f"CHAIN-{serial}", serial, now - 10, now + 9000, pin)
    return store.publish(name, pin, issued, now)


def test_a_new_store_file_is_private_and_migrated(tmp_path, store):
    assert (tmp_path / "f.db").stat().st_mode & 0o777 == 0o600
    with store.engine.connect() as conn:
        assert migrations.current_version(conn) == migrations.LATEST
    assert store.migrate() == (migrations.LATEST, migrations.LATEST)  # idempotent


def test_v1_store_upgrades_and_keeps_its_rows_and_holders(tmp_path):
    s = Store.open(settings_from_table({"store": str(tmp_path / "old.db")}, str(tmp_path)))
    migrations.upgrade(s.engine, target=1)
    with s.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO certificates (name, domains, key_type, server, csr_pem, csr_pin, "
                             "enrolled_at, serial) VALUES ('old', '[\"o.example\"]', 'ec', 'w', 'C', 'P', 1, 'ab')"))
        conn.execute(sa.text("INSERT INTO server_reports (name, server, outcome) VALUES ('old', 'w', 'deployed'), "
                             "('old', 'gone', 'deployed')"))
    with pytest.raises(FleetError, match="schema version 1"):
        s.require_current()
    assert s.migrate() == (1, migrations.LATEST)
    s.require_current()
    (cand,) = s.candidates()
    assert cand.state.name == "old" and cand.state.force is False and cand.domains == ("o.example",)
    assert s.attempt_counts(0, 0) == (0, {})
    assert central.allowed_list(s) == {"w": ["o.example"]}  # what a server held before v3 stays allowed
    assert [(r["server"], r["outcome"]) for r in s.status_rows()] == [("w", "deployed")]


def test_a_store_newer_than_this_code_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE safedeploy_schema SET version = 99"))
    with pytest.raises(FleetError, match="newer than"):
        store.migrate()


def test_enroll_needs_the_allow_list(store):
    with pytest.raises(FleetError, match="does not allow server 'web1' to hold b.example") as info:
        enroll(store, domains=("b.example",))
    assert "fleet allow web1 --domain b.example" in str(info.value)
    central.allow(store, "web1", ["*.b.example"], 1)  # a wildcard covers only itself
    with pytest.raises(FleetError, match="x.b.example"):
        enroll(store, domains=("x.b.example",))
    enroll(store, domains=("*.b.example",))


def test_a_takeover_waits_for_the_central_host(store):
    enroll(store)
    with pytest.raises(FleetError, match="'site' is held by another server") as info:
        enroll(store, server="web2")
    assert "web1" not in str(info.value)  # a server never learns who holds a name
    pin2 = enroll(store, server="web2", takeover=True)
    rows = {r["server"]: r for r in store.status_rows()}
    assert rows["web2"]["owner"] == "web1" and "awaits approval" in rows["web2"]["refusal_detail"]
    assert "fleet approve site --to web2" in rows["web2"]["refusal_detail"]
    assert rows["web2"]["refusal"] == "takeover awaits the central host's approval"  # what web2 reads
    central.disallow(store, "web1", ["a.example"])  # taking the names away approves nobody
    acc = central.accept(store, 150)
    assert acc.accepted == [] and any(r[1] == "web2" and "awaits approval" in r[2] for r in acc.refused)
    assert central.disallow(store, "web1", ["a.example"], to="web2", now=160) == ([], ["site"])
    acc = central.accept(store, 200)
    assert acc.accepted == ["site: moved from server 'web1' to 'web2' (takeover approved)"]
    assert acc.refused == [] and acc.new_refusals == set()  # web1's own row, now disallowed, is gone
    rows = store.status_rows()
    assert [(r["server"], r["owner"], r["refusal"]) for r in rows] == [("web2", "web2", None)]
    assert store.candidates()[0].state.csr_pin == pin2


def test_renew_candidates_skip_refused_enrollments(store):
    enroll(store)
    assert [c.state.name for c in store.candidates()] == ["site"]
    central.disallow(store, "web1", ["a.example"])
    acc = central.accept(store, 300)
    assert acc.refused[0][:2] == ("site", "web1") and "not allowed for server 'web1'" in acc.refused[0][2]
    assert [r["refusal"] for r in store.status_rows()] == ["name not allowed for this server"]
    assert acc.new_refusals == {("site", "web1")} and store.candidates() == []
    assert central.accept(store, 400).new_refusals == set()  # notified once


def test_forget_drops_every_row_of_a_name(store):
    pin = enroll(store)
    publish(store, pin)
    assert central.forget(store, "site") >= 3
    assert store.status_rows() == [] and store.candidates() == []
    assert central.forget(store, "site") == 0


def test_checkin_touches_only_this_server_and_returns_its_names(store, direct):
    pin = enroll(store)
    enroll(store, "other", server="web2")
    publish(store, pin)
    got = direct.checkin("web1", ["site", "other"], 500)
    assert list(got) == ["site"] and got["site"].serial == "01" and got["site"].cert_pem == "CERT-01"
    pulls = {(r["name"], r["server"]): r["last_pull_at"] for r in store.status_rows()}
    assert pulls == {("site", "web1"): 500, ("other", "web2"): None}


def test_publish_keeps_the_previous_and_is_guarded_by_the_csr_pin(store, direct):
    pin = enroll(store)
    assert publish(store, pin, serial="01")
    assert publish(store, pin, serial="02", now=300)
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT serial, prev_serial, prev_cert_pem, generation FROM certificates")).one()
    assert tuple(row) == ("02", "01", "CERT-01", 2)
    enroll(store)  # rekeyed while certbot ran for the first key
    assert not publish(store, pin, serial="03")
    assert direct.checkin("web1", ["site"], 400)["site"].serial == "02"


def test_failures_are_counted_and_reset_by_a_publish(store):
    pin = enroll(store)
    store.record_failure("site", "DNS problem", 1000, 1900)
    store.record_failure("site", "DNS problem", 2000, 5600)
    (cand,) = store.candidates()
    assert cand.state.consecutive_failures == 2 and cand.state.next_attempt_at == 5600
    assert store.attempt_counts(0, 1500) == (2, {"site": 1})
    publish(store, pin, now=6000)
    (cand,) = store.candidates()
    assert cand.state.consecutive_failures == 0 and cand.state.next_attempt_at is None


def test_reports_are_written_in_one_batch(store, direct):
    for n in ("a", "b"):
        enroll(store, n)
    direct.report("web1", [ServerReport("a", "deployed", "01", "01", "ok"),
                           ServerReport("b", "refused", None, None, "bad")], 700)
    rows = {r["name"]: r for r in store.status_rows()}
    assert rows["a"]["served_serial"] == "01" and rows["b"]["outcome"] == "refused"


def test_force_flags_known_names_and_returns_unknown(store):
    enroll(store)
    assert store.force(["site", "nope"]) == ["nope"]
    assert store.candidates()[0].state.force


def test_an_unreachable_store_is_a_fleet_error_without_the_password(tmp_path):
    s = DirectStore(settings_from_table({"store": "postgresql+psycopg://fleet:s3cret@127.0.0.1:1/fleet"},
                                        str(tmp_path)))
    with pytest.raises(FleetError) as info:
        s.checkin("web1", ["site"], 1)
    assert "s3cret" not in str(info.value) and "127.0.0.1:1" in str(info.value)
    assert "nothing was changed" in str(info.value)


def test_readers_never_see_a_half_published_row(store, settings):
    """A checkin races 200 publishes; every row it sees is one whole generation."""
    pin = enroll(store)
    publish(store, pin, serial="00")
    stop = threading.Event()
    seen, errors = [], []

    def reader():
        d = DirectStore(settings)
        while not stop.is_set():
            p = d.checkin("web1", ["site"], 1)["site"]
            seen.append(p.serial)
            if p.cert_pem != f"CERT-{p.serial}" or p.chain_pem != f"CHAIN-{p.serial}":
                errors.append((p.serial, p.cert_pem, p.chain_pem))
        d.close()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(1, 201):
        publish(store, pin, serial=hashlib.sha1(str(i).encode()).hexdigest()[:8], now=200 + i)
    stop.set()
    for t in threads:
        t.join()
    assert not errors and len(set(seen)) > 1
