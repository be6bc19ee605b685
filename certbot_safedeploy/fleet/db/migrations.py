"""Versioned schema migrations for the fleet store.

Each step is a function that takes a connection inside a transaction and moves
the schema from version ``n - 1`` to ``n``; its DDL is written out here, not
derived from :mod:`.schema`, so that old steps never change when the current
shape does.  Both SQLite and PostgreSQL run DDL inside transactions, so a step
that fails leaves the previous version intact.

On PostgreSQL two hosts migrating at once are serialised by ``LOCK TABLE
safedeploy_schema IN EXCLUSIVE MODE``: a server role holds only SELECT on that
table, so the strongest lock it can take there (ACCESS SHARE) never conflicts
with it, and it cannot take the lock itself (an advisory key can be taken by
any role).  A store that has no tables yet is locked with
``pg_try_advisory_xact_lock``: a second host fails at once, in one line.
Nothing is locked when the schema is already current, so a server's ``fleet
enroll`` (which calls :func:`upgrade`) needs no write privilege here.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.db import roles as pgroles

_V1 = (
    "CREATE TABLE safedeploy_schema (version INTEGER NOT NULL)",
    """CREATE TABLE certificates (
        name VARCHAR(128) PRIMARY KEY,
        domains TEXT NOT NULL,
        key_type VARCHAR(16) NOT NULL,
        server VARCHAR(128) NOT NULL,
        csr_pem TEXT NOT NULL,
        csr_pin VARCHAR(64) NOT NULL,
        enrolled_at BIGINT NOT NULL,
        cert_pem TEXT, chain_pem TEXT, serial VARCHAR(64), cert_pin VARCHAR(64),
        not_before BIGINT, not_after BIGINT, issued_at BIGINT,
        generation INTEGER NOT NULL DEFAULT 0,
        prev_cert_pem TEXT, prev_chain_pem TEXT, prev_serial VARCHAR(64), prev_not_after BIGINT,
        last_attempt_at BIGINT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT,
        last_error TEXT)""",
    """CREATE TABLE server_reports (
        name VARCHAR(128) NOT NULL REFERENCES certificates(name) ON DELETE CASCADE,
        server VARCHAR(128) NOT NULL,
        last_pull_at BIGINT, reported_at BIGINT, outcome VARCHAR(32),
        installed_serial VARCHAR(64), served_serial VARCHAR(64), detail TEXT,
        PRIMARY KEY (name, server))""",
    "INSERT INTO safedeploy_schema (version) VALUES (0)",
)

_V2 = (
    "ALTER TABLE certificates ADD COLUMN force_renewal BOOLEAN NOT NULL DEFAULT FALSE",
    """CREATE TABLE attempts (
        id {serial} PRIMARY KEY,
        name VARCHAR(128) NOT NULL,
        at BIGINT NOT NULL,
        ok BOOLEAN NOT NULL,
        detail TEXT)""",
    "CREATE INDEX attempts_at ON attempts (at)",
)


_V3 = (  # the allow list, servers' own enrollment rows, reports keyed by enrollment
    """CREATE TABLE allowed_names (
        server VARCHAR(128) NOT NULL,
        domain VARCHAR(253) NOT NULL,
        added_at BIGINT NOT NULL,
        PRIMARY KEY (server, domain))""",
    """CREATE TABLE enrollments (
        name VARCHAR(128) NOT NULL,
        server VARCHAR(128) NOT NULL,
        domains TEXT NOT NULL,
        key_type VARCHAR(16) NOT NULL,
        csr_pem TEXT NOT NULL,
        csr_pin VARCHAR(64) NOT NULL,
        enrolled_at BIGINT NOT NULL,
        takeover BOOLEAN NOT NULL DEFAULT FALSE,
        refusal TEXT,
        PRIMARY KEY (name, server))""",
    "INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at) "
    "SELECT name, server, domains, key_type, csr_pem, csr_pin, enrolled_at FROM certificates",
    # names enrolled before v3 stay allowed to the server that holds them
    "INSERT INTO allowed_names (server, domain, added_at) SELECT c.server, d.{json_value}, min(c.enrolled_at) "
    "FROM certificates c, {json_each} GROUP BY c.server, d.{json_value}",
    """CREATE TABLE server_reports_v3 (
        name VARCHAR(128) NOT NULL,
        server VARCHAR(128) NOT NULL,
        last_pull_at BIGINT, reported_at BIGINT, outcome VARCHAR(32),
        installed_serial VARCHAR(64), served_serial VARCHAR(64), detail TEXT,
        PRIMARY KEY (name, server),
        CONSTRAINT server_reports_enrollment_fkey FOREIGN KEY (name, server)
            REFERENCES enrollments (name, server) ON DELETE CASCADE)""",
    # a report of a server that no longer holds the name (an old takeover) has no enrollment: dropped
    "INSERT INTO server_reports_v3 SELECT r.name, r.server, r.last_pull_at, r.reported_at, r.outcome, "
    "r.installed_serial, r.served_serial, r.detail FROM server_reports r "
    "WHERE EXISTS (SELECT 1 FROM enrollments e WHERE e.name = r.name AND e.server = r.server)",
    "DROP TABLE server_reports",
    "ALTER TABLE server_reports_v3 RENAME TO server_reports",
)

_V4 = (  # central-only tables: approvals, the detail of refusals, the per-server limits
    """CREATE TABLE approvals (
        name VARCHAR(128) NOT NULL,
        server VARCHAR(128) NOT NULL,
        csr_pin VARCHAR(64) NOT NULL,
        approved_at BIGINT NOT NULL,
        PRIMARY KEY (name, server))""",
    """CREATE TABLE refusal_details (
        name VARCHAR(128) NOT NULL,
        server VARCHAR(128) NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (name, server))""",
    """CREATE TABLE safedeploy_limits (
        name VARCHAR(32) PRIMARY KEY,
        value BIGINT NOT NULL)""",
    # the defaults of [fleet]; every central command writes the configured values (Store.set_limits)
    "INSERT INTO safedeploy_limits (name, value) VALUES ('enrollments', 100), ('names_per_csr', 100), "
    "('csr_bytes', 16384), ('report_bytes', 4096)",
)

_DIALECT = {
    "postgresql": {"serial": "SERIAL", "json_each": "json_array_elements_text(c.domains::json) AS d(value)",
                   "json_value": "value"},
    "sqlite": {"serial": "INTEGER", "json_each": "json_each(c.domains) AS d", "json_value": "value"},
}


def _run(statements: tuple[str, ...], postgresql_only: tuple[str, ...] = ()) -> Callable[[sa.Connection], None]:
    def step(conn: sa.Connection) -> None:
        words = _DIALECT["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
        for statement in statements:
            for key, value in words.items():
                statement = statement.replace("{" + key + "}", value)
            conn.execute(sa.text(statement))
        if conn.dialect.name == "postgresql":
            for statement in postgresql_only:
                conn.execute(sa.text(statement))
    return step


STEPS: tuple[Callable[[sa.Connection], None], ...] = (_run(_V1), _run(_V2), _run(_V3, pgroles.V3),
                                                     _run(_V4, pgroles.V4))
LATEST = len(STEPS)


def current_version(conn: sa.Connection) -> int:
    """The schema version of the store; 0 for an empty database."""
    if not sa.inspect(conn).has_table("safedeploy_schema"):
        return 0
    version = conn.execute(sa.text("SELECT version FROM safedeploy_schema")).scalar_one()
    return int(version)


MIGRATION_KEY = 7469


def _not_newer(version: int) -> None:
    if version > LATEST:
        raise FleetError(f"the store has schema version {version}, newer than this "
                         f"certbot-safedeploy knows ({LATEST})", fix="upgrade certbot-safedeploy on this host")


def _lock(conn: sa.Connection) -> None:
    """Take the migration lock (PostgreSQL), or fail at once if another host migrates an empty store."""
    if sa.inspect(conn).has_table("safedeploy_schema"):
        conn.execute(sa.text("LOCK TABLE safedeploy_schema IN EXCLUSIVE MODE"))
        return
    if not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": MIGRATION_KEY}).scalar():
        raise FleetError("another session holds the lock for creating the store's tables",
                         fix="wait for the other `fleet migrate` to finish, then run it again")


def upgrade(engine: sa.Engine, target: int = LATEST) -> tuple[int, int]:
    """Apply every missing step up to ``target``; return (from, to)."""
    with engine.connect() as conn:
        start = current_version(conn)
    _not_newer(start)
    if start >= target:
        return start, start
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _lock(conn)
        start = current_version(conn)
        _not_newer(start)
        for version in range(start + 1, target + 1):
            STEPS[version - 1](conn)
            conn.execute(sa.text("UPDATE safedeploy_schema SET version = :v"), {"v": version})
    return start, max(start, target)
