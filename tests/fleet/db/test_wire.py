"""The pull's hand-written SQL (fleet/wire.py) against a store built by the migrations."""

import sqlalchemy as sa

from certbot_safedeploy.fleet.db import schema

from certbot_safedeploy.fleet.db import wire
from certbot_safedeploy.fleet.db.store import Store
from tests.fleet.db.test_store import enroll, publish


def core_checkin(server, names):
    """The check-in's SELECT, written with the SQLAlchemy Core tables."""
    r, e, c = schema.server_reports, schema.enrollments, schema.certificates
    cols = [schema.metadata.tables[t].c[col] for t, col in wire.CHECKIN_COLUMNS]
    return sa.select(*cols).select_from(
        r.join(e, sa.and_(e.c.name == r.c.name, e.c.server == r.c.server)).outerjoin(
            c, sa.and_(c.c.name == e.c.name, c.c.server == e.c.server))).where(
        r.c.server == server, r.c.name.in_(names))


def test_checkin_columns_exist_in_the_schema():
    for table, column in wire.CHECKIN_COLUMNS:
        assert column in schema.metadata.tables[table].c, (table, column)
    for statement in (wire.checkin_pg(), wire.CHECKIN_SQLITE_READ, wire.REPORT_PG, wire.REPORT_SQLITE):
        for word in ("last_pull_at", "reported_at", "installed_serial", "served_serial", "detail", "outcome"):
            if word in statement:
                assert word in schema.server_reports.c


def test_sqlite_statements_run_on_a_migrated_store_and_match_core(store: Store, direct):
    pin = enroll(store)
    enroll(store, "other")
    publish(store, pin)
    conn = direct._connect()
    marks = "?, ?"
    cursor = conn.execute(wire.CHECKIN_SQLITE_READ.format(names=marks), ["web1", "site", "other"])
    raw = sorted(cursor.fetchall())
    assert [d[0] for d in cursor.description] == [c for _, c in wire.CHECKIN_COLUMNS]
    with store.engine.connect() as sconn:
        core = sorted(tuple(row) for row in sconn.execute(core_checkin("web1", ["site", "other"])))
    assert raw == core and len(raw) == 2
    conn.execute(wire.CHECKIN_SQLITE_TOUCH.format(names=marks), [5, "web1", "site", "other"])
    conn.executemany(wire.REPORT_SQLITE, [(6, "deployed", "01", "01", "ok", "web1", "site")])
    got = {r["name"]: r for r in store.status_rows()}
    assert got["site"]["last_pull_at"] == 5 and got["site"]["outcome"] == "deployed"
