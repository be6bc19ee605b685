"""Store logic on SQLite (the PostgreSQL path runs in tests/integration/test_fleet_e2e.py)."""

import hashlib
import threading

import pytest
import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet import migrations
from certbot_safedeploy.fleet.issued import IssuedCertificate
from certbot_safedeploy.fleet.settings import settings_from_table
from certbot_safedeploy.fleet.store import ServerReport, Store


@pytest.fixture
def store(tmp_path):
    s = Store.open(settings_from_table({"store": str(tmp_path / "f.db"), "server": "w"}, str(tmp_path)))
    s.migrate()
    yield s
    s.close()


def enroll(store, name="site", server="web1", pin="PIN1", **kw):
    store.enroll(name, ["a.example"], "ec", server, "CSR", pin, 100, **kw)


def publish(store, name="site", serial="01", pin="PIN1", now=200):
    issued = IssuedCertificate(f"CERT-{serial}", f"CHAIN-{serial}", serial, now - 10, now + 9000, pin)
    return store.publish(name, pin, issued, now)


def test_a_new_store_file_is_private_and_migrated(tmp_path, store):
    assert (tmp_path / "f.db").stat().st_mode & 0o777 == 0o600
    with store.engine.connect() as conn:
        assert migrations.current_version(conn) == migrations.LATEST
    assert store.migrate() == (migrations.LATEST, migrations.LATEST)  # idempotent


def test_v1_store_upgrades_and_keeps_its_rows(tmp_path):
    s = Store.open(settings_from_table({"store": str(tmp_path / "old.db")}, str(tmp_path)))
    migrations.upgrade(s.engine, target=1)
    with s.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO certificates (name, domains, key_type, server, csr_pem, csr_pin, "
                             "enrolled_at, serial) VALUES ('old', '[\"o.example\"]', 'ec', 'w', 'C', 'P', 1, 'ab')"))
    with pytest.raises(FleetError, match="schema version 1"):
        s.require_current()
    assert s.migrate() == (1, 2)
    s.require_current()
    (cand,) = s.candidates()
    assert cand.state.name == "old" and cand.state.force is False and cand.domains == ("o.example",)
    assert s.attempt_counts(0, 0) == (0, {})


def test_a_store_newer_than_this_code_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE safedeploy_schema SET version = 99"))
    with pytest.raises(FleetError, match="newer than"):
        store.migrate()


def test_enroll_belongs_to_one_server_unless_taken_over(store):
    enroll(store)
    with pytest.raises(FleetError, match="enrolled by server 'web1'"):
        enroll(store, server="web2")
    enroll(store, server="web2", takeover=True)
    rows = store.status_rows()
    assert {r["server"] for r in rows} == {"web1", "web2"} and rows[0]["owner"] == "web2"


def test_checkin_touches_only_this_server_and_returns_its_names(store):
    enroll(store)
    enroll(store, "other", server="web2")
    publish(store)
    got = store.checkin("web1", ["site", "other"], 500)
    assert list(got) == ["site"] and got["site"].serial == "01" and got["site"].cert_pem == "CERT-01"
    pulls = {(r["name"], r["server"]): r["last_pull_at"] for r in store.status_rows()}
    assert pulls == {("site", "web1"): 500, ("other", "web2"): None}


def test_publish_keeps_the_previous_and_is_guarded_by_the_csr_pin(store):
    enroll(store)
    assert publish(store, serial="01")
    assert publish(store, serial="02", now=300)
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT serial, prev_serial, prev_cert_pem, generation FROM certificates")).one()
    assert tuple(row) == ("02", "01", "CERT-01", 2)
    enroll(store, pin="PIN2")  # rekeyed while certbot ran for PIN1
    assert not publish(store, serial="03", pin="PIN1")
    assert store.checkin("web1", ["site"], 400)["site"].serial == "02"


def test_failures_are_counted_and_reset_by_a_publish(store):
    enroll(store)
    store.record_failure("site", "DNS problem", 1000, 1900)
    store.record_failure("site", "DNS problem", 2000, 5600)
    (cand,) = store.candidates()
    assert cand.state.consecutive_failures == 2 and cand.state.next_attempt_at == 5600
    assert store.attempt_counts(0, 1500) == (2, {"site": 1})
    publish(store, now=6000)
    (cand,) = store.candidates()
    assert cand.state.consecutive_failures == 0 and cand.state.next_attempt_at is None


def test_reports_are_written_in_one_batch(store):
    for n in ("a", "b"):
        enroll(store, n)
    store.report("web1", [ServerReport("a", "deployed", "01", "01", "ok"),
                          ServerReport("b", "refused", None, None, "bad")], 700)
    rows = {r["name"]: r for r in store.status_rows()}
    assert rows["a"]["served_serial"] == "01" and rows["b"]["outcome"] == "refused"


def test_force_flags_known_names_and_returns_unknown(store):
    enroll(store)
    assert store.force(["site", "nope"]) == ["nope"]
    assert store.candidates()[0].state.force


def test_an_unreachable_store_is_a_fleet_error_without_the_password(tmp_path):
    s = Store.open(settings_from_table({"store": "postgresql+psycopg://fleet:s3cret@127.0.0.1:1/fleet"},
                                       str(tmp_path)))
    with pytest.raises(FleetError) as info:
        s.checkin("web1", ["site"], 1)
    assert "s3cret" not in str(info.value) and "127.0.0.1:1" in str(info.value)
    assert "nothing was changed" in str(info.value)


def test_readers_never_see_a_half_published_row(store):
    """A checkin races 200 publishes; every row it sees is one whole generation."""
    enroll(store)
    publish(store, serial="00")
    stop = threading.Event()
    seen, errors = [], []

    def reader():
        while not stop.is_set():
            p = store.checkin("web1", ["site"], 1)["site"]
            seen.append(p.serial)
            if p.cert_pem != f"CERT-{p.serial}" or p.chain_pem != f"CHAIN-{p.serial}":
                errors.append((p.serial, p.cert_pem, p.chain_pem))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(1, 201):
        publish(store, serial=hashlib.sha1(str(i).encode()).hexdigest()[:8], now=200 + i)
    stop.set()
    for t in threads:
        t.join()
    assert not errors and len(set(seen)) > 1
