"""The fleet store: every read and write of the database, through SQLAlchemy Core.

SQLite (a file path) is the embedded default; PostgreSQL (``postgresql+psycopg``)
is for fleets.  Consistency rests on single statements and short transactions:

* a server's check-in is one statement (on PostgreSQL one round trip: an
  ``UPDATE ... FROM ... RETURNING`` in autocommit), so it sees each certificate
  row either before or after a publish, never half of one;
* publishing moves current to previous and writes the new certificate in one
  ``UPDATE`` guarded by the CSR pin, inside the transaction that records the
  attempt.

Errors from the driver become :class:`FleetError` naming the store (password
hidden) and the fix.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING, Any, Sequence

import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.db import migrations
from certbot_safedeploy.fleet.rules.renewal_policy import RenewalState
from certbot_safedeploy.fleet.db.schema import (allowed_names, attempts, certificates, enrollments, refusal_details,
                                                server_reports)
from certbot_safedeploy.config.fleet_section import FleetSettings, redact
from certbot_safedeploy.fleet.db.wire import Published, ServerReport, read_password
from certbot_safedeploy.syntax.jsontext import parse_json

__all__ = ["Candidate", "Published", "ServerReport", "Store", "make_engine"]

if TYPE_CHECKING:  # issued.py imports cryptography, which a no-change pull never needs
    from certbot_safedeploy.fleet.rules.issued import IssuedCertificate


@dataclasses.dataclass(frozen=True)
class Candidate:
    state: RenewalState
    domains: tuple[str, ...]
    csr_pem: str
    cert_pem: str | None = None  # the current certificate, for its ARI window
    server: str = ""  # the holder: the order budget is shared round-robin by server


def _create_sqlite_file(url: sa.URL) -> None:
    path = url.database
    if not path or path == ":memory:" or os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)


def make_engine(settings: FleetSettings) -> sa.Engine:
    url = sa.make_url(settings.store)
    if url.get_backend_name() == "sqlite":
        _create_sqlite_file(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    if settings.store_password_file:
        url = url.set(password=read_password(settings.store_password_file))
    # every statement of the central host gives up instead of waiting on a lock a server holds
    options = " ".join(f"-c {k}={int(v * 1000)}" for k, v in (
        ("lock_timeout", settings.lock_timeout), ("statement_timeout", settings.statement_timeout),
        ("idle_in_transaction_session_timeout", settings.statement_timeout)))
    return sa.create_engine(url, pool_size=1, max_overflow=0, connect_args={
        "connect_timeout": 10, "application_name": "certbot-safedeploy", "options": options})


class Store:
    def __init__(self, engine: sa.Engine, label: str) -> None:
        self.engine = engine
        self.label = label  # the URL without its password
        self.is_postgresql = engine.dialect.name == "postgresql"

    @classmethod
    def open(cls, settings: FleetSettings) -> "Store":
        return cls(make_engine(settings), redact(settings.store))

    def close(self) -> None:
        self.engine.dispose()

    def _error(self, exc: Exception) -> FleetError:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = (lines[0] if lines else type(exc).__name__)[:300]
        if "lock timeout" in detail or "statement timeout" in detail:
            return FleetError(f"the fleet store did not answer in time: {detail}", path=self.label,
                              fix="another session holds a lock (see pg_stat_activity); nothing was changed, "
                                  "run the command again")
        return FleetError(f"the fleet store is unreachable or failed: {detail}", path=self.label,
                          fix="check the database server, the URL in [fleet] store and the network; "
                              "nothing was changed on this host")

    def _begin(self) -> Any:
        return _Guard(self, self.engine.begin)

    # -- schema ----------------------------------------------------------------------
    def migrate(self) -> tuple[int, int]:
        with _Guard(self, None):
            return migrations.upgrade(self.engine)

    def set_limits(self, limits: dict[str, int]) -> None:
        """Write the [fleet] per-server limits where the store's triggers read them (central host)."""
        t = sa.table("safedeploy_limits", sa.column("name"), sa.column("value"))
        with self._begin() as conn:
            have = {row[0]: row[1] for row in conn.execute(sa.select(t.c.name, t.c.value))}
            for name, value in limits.items():
                if name not in have:
                    conn.execute(sa.insert(t).values(name=name, value=value))
                elif have[name] != value:
                    conn.execute(sa.update(t).where(t.c.name == name).values(value=value))

    def require_current(self) -> None:
        with _Guard(self, None), self.engine.connect() as conn:
            version = migrations.current_version(conn)
        if version != migrations.LATEST:
            raise FleetError(f"the store has schema version {version}, this host needs "
                             f"{migrations.LATEST}", path=self.label,
                             fix="run `certbot-safedeploy fleet migrate` on the central host")

    # -- server side -----------------------------------------------------------------
    def enroll(self, name: str, domains: Sequence[str], key_type: str, server: str,
               csr_pem: str, csr_pin: str, now: int, *, takeover: bool = False) -> None:
        """Write this server's enrollment (its own rows only); the central host accepts it."""
        c, e, r = certificates, enrollments, server_reports
        with self._begin() as conn:
            allowed = set(conn.execute(sa.select(allowed_names.c.domain).where(
                allowed_names.c.server == server)).scalars())
            missing = [d for d in domains if d not in allowed]
            if missing:
                raise FleetError(f"the central host does not allow server {server!r} to hold "
                                 f"{', '.join(missing)}", path=self.label,
                                 fix=f"on the central host: certbot-safedeploy fleet allow {server} "
                                     + " ".join(f"--domain {d}" for d in missing))
            owner = conn.execute(sa.select(c.c.server).where(c.c.name == name)).scalar()  # hidden by RLS
            if owner is not None and owner != server and not takeover:
                raise FleetError(f"{name!r} is held by another server; its key lives there",
                                 path=self.label,
                                 fix=f"enroll another name, or pass --takeover to move {name!r} here "
                                     "(the central host approves it)")
            values: dict[str, Any] = {"domains": json.dumps(list(domains)), "key_type": key_type,
                                      "csr_pem": csr_pem, "csr_pin": csr_pin, "takeover": takeover}
            if not self.is_postgresql:  # PostgreSQL sets it from its own clock (schema v4)
                values["enrolled_at"] = now
            done = conn.execute(sa.update(e).where(e.c.name == name, e.c.server == server).values(**values))
            if not done.rowcount:
                conn.execute(sa.insert(e).values(name=name, server=server, **values))
            exists = conn.execute(sa.select(r.c.name).where(r.c.name == name, r.c.server == server)).first()
            if exists is None:
                conn.execute(sa.insert(r).values(name=name, server=server))

    # -- central side ----------------------------------------------------------------
    def candidates(self) -> list[Candidate]:
        """Certificates whose holder's enrollment the central host accepted (see central.accept)."""
        c, e = certificates, enrollments
        query = sa.select(
            c.c.name, c.c.server, c.c.domains, c.c.csr_pem, c.c.csr_pin, c.c.cert_pin, c.c.not_before,
            c.c.not_after, c.c.force_renewal, c.c.consecutive_failures, c.c.next_attempt_at, c.c.cert_pem,
        ).select_from(c.join(e, sa.and_(e.c.name == c.c.name, e.c.server == c.c.server))).where(
            e.c.refusal.is_(None)).order_by(c.c.name)
        with _Guard(self, None), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Candidate(RenewalState(row.name, row.csr_pin, row.cert_pin, row.not_before, row.not_after,
                                       bool(row.force_renewal), row.consecutive_failures,
                                       row.next_attempt_at),
                          _names(row.domains), row.csr_pem,
                          row.cert_pem if isinstance(row.cert_pem, str) else None, row.server) for row in rows]

    def attempt_counts(self, since_orders: int, since_failures: int) -> tuple[int, dict[str, int]]:
        """(orders since ``since_orders``, {name: failures since ``since_failures``})."""
        a = attempts
        with _Guard(self, None), self.engine.connect() as conn:
            orders = conn.execute(sa.select(sa.func.count()).select_from(a).where(a.c.at >= since_orders)).scalar_one()
            failed = conn.execute(sa.select(a.c.name, sa.func.count()).where(
                a.c.at >= since_failures, a.c.ok == sa.false()).group_by(a.c.name)).all()
        return int(orders), {row[0]: int(row[1]) for row in failed}

    def publish(self, name: str, csr_pin: str, issued: IssuedCertificate, now: int) -> bool:
        """Make a new certificate current; False if the CSR changed meanwhile."""
        c = certificates
        serial = issued.serial
        with self._begin() as conn:
            result = conn.execute(sa.update(c).where(c.c.name == name, c.c.csr_pin == csr_pin).values(
                prev_cert_pem=c.c.cert_pem, prev_chain_pem=c.c.chain_pem, prev_serial=c.c.serial,
                prev_not_after=c.c.not_after, cert_pem=issued.cert_pem, chain_pem=issued.chain_pem, serial=serial,
                cert_pin=issued.pin, not_before=issued.not_before, not_after=issued.not_after, issued_at=now,
                generation=c.c.generation + 1, last_attempt_at=now, consecutive_failures=0,
                next_attempt_at=None, last_error=None, force_renewal=False))
            conn.execute(sa.insert(attempts).values(name=name, at=now, ok=True, detail=f"serial {serial}"))
            return bool(result.rowcount)

    def record_failure(self, name: str, error: str, now: int, next_attempt_at: int) -> None:
        c = certificates
        with self._begin() as conn:
            conn.execute(sa.update(c).where(c.c.name == name).values(
                last_attempt_at=now, consecutive_failures=c.c.consecutive_failures + 1,
                next_attempt_at=next_attempt_at, last_error=error[:2000]))
            conn.execute(sa.insert(attempts).values(name=name, at=now, ok=False, detail=error[:2000]))

    def force(self, names: Sequence[str]) -> list[str]:
        """Flag ``names`` for renewal on the next run; return the unknown ones."""
        c = certificates
        with self._begin() as conn:
            known = set(conn.execute(sa.select(c.c.name).where(c.c.name.in_(list(names)))).scalars())
            conn.execute(sa.update(c).where(c.c.name.in_(list(known))).values(force_renewal=True))
        return [n for n in names if n not in known]

    def status_rows(self) -> list[dict[str, Any]]:
        """Every (name, enrolled server) pair with its certificate and report, one query."""
        c, e, r, d = certificates, enrollments, server_reports, refusal_details
        query = sa.select(
            e.c.name, c.c.server.label("owner"), d.c.detail.label("refusal_detail"), c.c.serial, c.c.not_after, c.c.issued_at,
            c.c.prev_serial, c.c.consecutive_failures, c.c.last_error, c.c.next_attempt_at,
            c.c.cert_pin, c.c.csr_pin, e.c.csr_pin.label("enrolled_pin"), e.c.server, e.c.refusal, r.c.last_pull_at, r.c.reported_at, r.c.outcome,
            r.c.installed_serial, r.c.served_serial, r.c.detail,
        ).select_from(e.outerjoin(c, c.c.name == e.c.name).outerjoin(
            r, sa.and_(r.c.name == e.c.name, r.c.server == e.c.server)).outerjoin(
            d, sa.and_(d.c.name == e.c.name, d.c.server == e.c.server))).order_by(e.c.name, e.c.server)
        with _Guard(self, None), self.engine.connect() as conn:
            result = conn.execute(query)
            keys = list(result.keys())
            return [dict(zip(keys, row)) for row in result]


def _names(text: Any) -> tuple[str, ...]:
    try:
        data = parse_json(text) if isinstance(text, str) else None
    except ValueError:
        return ()
    return tuple(d for d in data if isinstance(d, str)) if isinstance(data, list) else ()


class _Guard:
    """Turn driver errors into FleetError; optionally enter a transaction."""

    def __init__(self, store: Store, begin: Any) -> None:
        self.store, self.begin, self.ctx = store, begin, None

    def __enter__(self) -> Any:
        if self.begin is None:
            return None
        self.ctx = self.begin()
        try:
            return self.ctx.__enter__()  # type: ignore[attr-defined]
        except sa.exc.SQLAlchemyError as exc:
            raise self.store._error(exc) from None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        try:
            if self.ctx is not None:
                self.ctx.__exit__(kind, exc, tb)
        except sa.exc.SQLAlchemyError as err:
            raise self.store._error(err) from None
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise self.store._error(exc) from None

