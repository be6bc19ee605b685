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

from ..errors import FleetError
from . import migrations
from .policy import RenewalState
from .schema import attempts, certificates, server_reports
from .settings import FleetSettings, redact

if TYPE_CHECKING:  # issued.py imports cryptography, which a no-change pull never needs
    from .issued import IssuedCertificate


@dataclasses.dataclass(frozen=True)
class Published:
    """What a server needs to know about one of its names, from one check-in."""

    name: str
    domains: tuple[str, ...]
    csr_pin: str
    serial: str | None
    cert_pem: str | None
    chain_pem: str | None
    cert_pin: str | None
    reported_installed: str | None  # what this server last told the store


@dataclasses.dataclass(frozen=True)
class ServerReport:
    name: str
    outcome: str
    installed_serial: str | None
    served_serial: str | None
    detail: str


@dataclasses.dataclass(frozen=True)
class Candidate:
    state: RenewalState
    domains: tuple[str, ...]
    csr_pem: str


def _create_sqlite_file(url: sa.URL) -> None:
    path = url.database
    if not path or path == ":memory:" or os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)


def _read_password(path: str) -> str:
    from ..fsutil import read_trusted_text, unsafe_ownership

    problem = unsafe_ownership(path, require_root=os.geteuid() == 0)
    if problem:
        raise FleetError(f"store password file: {problem}", path=path,
                         fix=f"chown root:root {path} && chmod 0600 {path}")
    if os.stat(path).st_mode & 0o077:
        raise FleetError("store password file is readable by group or others", path=path,
                         fix=f"chmod 0600 {path}")
    return read_trusted_text(path).strip()


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
        url = url.set(password=_read_password(settings.store_password_file))
    return sa.create_engine(url, pool_size=1, max_overflow=0, connect_args={
        "connect_timeout": 10, "application_name": "certbot-safedeploy"})


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
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        return FleetError(f"the fleet store is unreachable or failed: {detail}", path=self.label,
                          fix="check the database server, the URL in [fleet] store and the network; "
                              "nothing was changed on this host")

    def _begin(self) -> Any:
        return _Guard(self, self.engine.begin)

    # -- schema ----------------------------------------------------------------------
    def migrate(self) -> tuple[int, int]:
        with _Guard(self, None):
            return migrations.upgrade(self.engine)

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
        c, r = certificates, server_reports
        with self._begin() as conn:
            lock = sa.select(c.c.server).where(c.c.name == name)
            owner = conn.execute(lock.with_for_update() if self.is_postgresql else lock).scalar()
            values = {"domains": json.dumps(list(domains)), "key_type": key_type, "server": server,
                      "csr_pem": csr_pem, "csr_pin": csr_pin, "enrolled_at": now,
                      "consecutive_failures": 0, "next_attempt_at": None, "last_error": None}
            if owner is None:
                conn.execute(sa.insert(c).values(name=name, **values))
            elif owner != server and not takeover:
                raise FleetError(f"{name!r} is enrolled by server {owner!r}; its key lives there",
                                 path=self.label,
                                 fix=f"enroll another name, or pass --takeover to move {name!r} here")
            else:
                conn.execute(sa.update(c).where(c.c.name == name).values(**values))
            exists = conn.execute(sa.select(r.c.name).where(r.c.name == name, r.c.server == server)).first()
            if exists is None:
                conn.execute(sa.insert(r).values(name=name, server=server))

    def checkin(self, server: str, names: Sequence[str], now: int) -> dict[str, Published]:
        """Record a pull by ``server`` and return its names' current rows."""
        c, r = certificates, server_reports
        cols = (c.c.name, c.c.domains, c.c.csr_pin, c.c.serial, c.c.cert_pem, c.c.chain_pem,
                c.c.cert_pin, r.c.installed_serial)
        where = (r.c.server == server, r.c.name == c.c.name, r.c.name.in_(list(names)))
        touch = sa.update(r).where(*where).values(last_pull_at=now)
        with _Guard(self, None):
            if self.is_postgresql:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    rows = conn.execute(touch.returning(*cols)).all()
            else:
                with self.engine.begin() as conn:
                    conn.execute(touch)
                    rows = conn.execute(sa.select(*cols).where(*where)).all()
        return {row.name: Published(row.name, tuple(json.loads(row.domains)), row.csr_pin, row.serial,
                                    row.cert_pem, row.chain_pem, row.cert_pin, row.installed_serial)
                for row in rows}

    def report(self, server: str, reports: Sequence[ServerReport], now: int) -> None:
        """Store what ``server`` installed and serves (one batched statement)."""
        if not reports:
            return
        r = server_reports
        stmt = sa.update(r).where(r.c.name == sa.bindparam("b_name"), r.c.server == server).values(
            reported_at=now, outcome=sa.bindparam("b_outcome"),
            installed_serial=sa.bindparam("b_installed"), served_serial=sa.bindparam("b_served"),
            detail=sa.bindparam("b_detail"))
        params = [{"b_name": x.name, "b_outcome": x.outcome, "b_installed": x.installed_serial,
                   "b_served": x.served_serial, "b_detail": x.detail[:2000]} for x in reports]
        with self._begin() as conn:
            conn.execute(stmt, params)

    # -- central side ----------------------------------------------------------------
    def candidates(self) -> list[Candidate]:
        c = certificates
        with _Guard(self, None), self.engine.connect() as conn:
            rows = conn.execute(sa.select(
                c.c.name, c.c.domains, c.c.csr_pem, c.c.csr_pin, c.c.cert_pin, c.c.not_before,
                c.c.not_after, c.c.force_renewal, c.c.consecutive_failures, c.c.next_attempt_at,
            ).order_by(c.c.name)).all()
        return [Candidate(RenewalState(row.name, row.csr_pin, row.cert_pin, row.not_before, row.not_after,
                                       bool(row.force_renewal), row.consecutive_failures,
                                       row.next_attempt_at),
                          tuple(json.loads(row.domains)), row.csr_pem) for row in rows]

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

    def status_rows(self) -> list[sa.RowMapping]:
        """Every (certificate, server report) pair, one query."""
        c, r = certificates, server_reports
        query = sa.select(
            c.c.name, c.c.server.label("owner"), c.c.serial, c.c.not_after, c.c.issued_at,
            c.c.prev_serial, c.c.consecutive_failures, c.c.last_error, c.c.next_attempt_at,
            c.c.cert_pin, c.c.csr_pin, r.c.server, r.c.last_pull_at, r.c.reported_at, r.c.outcome,
            r.c.installed_serial, r.c.served_serial, r.c.detail,
        ).select_from(c.outerjoin(r, r.c.name == c.c.name)).order_by(c.c.name, r.c.server)
        with _Guard(self, None), self.engine.connect() as conn:
            return list(conn.execute(query).mappings())


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

