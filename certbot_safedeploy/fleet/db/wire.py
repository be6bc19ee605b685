"""The hot path of ``fleet pull``: check-in and report straight through the driver.

A pull that finds nothing new must cost one statement and little more than
the interpreter's start, so this module talks to PostgreSQL's own driver, libpq
(:mod:`.libpq`, through ctypes; psycopg when no libpq can be loaded, or with
``SAFEDEPLOY_FLEET_DRIVER=psycopg``), or the standard library's sqlite3
directly: no SQLAlchemy, no cryptography, and not psycopg's ~240 ms import.  The SQL
here is written out by hand; ``tests/fleet/test_wire.py`` and the PostgreSQL
end-to-end test run it against a store that :mod:`.migrations` built and
compare its columns with :mod:`.schema`, so the two cannot drift apart.

* PostgreSQL: one ``UPDATE server_reports ... FROM enrollments LEFT JOIN
  certificates ... RETURNING`` in autocommit, without prepared statements:
  one round trip after the connection is made (the driver sends nothing else;
  ``gssencmode=disable`` saves the GSSAPI probe before the login).  Row-level security limits
  it to this server's own rows (:mod:`.roles`).
* SQLite: the same update and a ``SELECT`` of the same columns in one
  transaction of a local file.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.db.libpq import array_literal
from certbot_safedeploy.fleet.db.libpq import load as libpq_load
from certbot_safedeploy.config.fleet_section import FleetSettings, redact
from certbot_safedeploy.syntax.jsontext import parse_json

DRIVER_ENV = "SAFEDEPLOY_FLEET_DRIVER"  # "psycopg" skips libpq (tests of both paths)


@dataclasses.dataclass(frozen=True)
class Published:
    """What a server needs to know about one of its names, from one check-in."""

    name: str
    domains: tuple[str, ...]
    csr_pin: str | None
    refusal: str | None  # why the central host did not accept this server's enrollment
    serial: str | None
    cert_pem: str | None
    chain_pem: str | None
    cert_pin: str | None
    reported_installed: str | None  # what this server last told the store
    reported_served: str | None


@dataclasses.dataclass(frozen=True)
class ServerReport:
    name: str
    outcome: str
    installed_serial: str | None
    served_serial: str | None
    detail: str


# (table, column) in the order the check-in returns them; aliases r, e, c below
CHECKIN_COLUMNS = (
    ("server_reports", "name"), ("enrollments", "domains"), ("enrollments", "csr_pin"),
    ("enrollments", "refusal"), ("certificates", "serial"), ("certificates", "cert_pem"),
    ("certificates", "chain_pem"), ("certificates", "cert_pin"), ("server_reports", "installed_serial"),
    ("server_reports", "served_serial"),
)
_ALIAS = {"server_reports": "r", "enrollments": "e", "certificates": "c"}
_COLS = ", ".join(f"{_ALIAS[t]}.{c}" for t, c in CHECKIN_COLUMNS)
_CERT = "LEFT OUTER JOIN certificates AS c ON c.name = e.name AND c.server = e.server"

CHECKIN_PG = (f"UPDATE server_reports AS r SET last_pull_at = {{now}} FROM enrollments AS e {_CERT} "
              f"WHERE e.name = r.name AND e.server = r.server AND r.server = {{server}} "
              f"AND r.name = ANY({{names}}) RETURNING {_COLS}")
CHECKIN_SQLITE_TOUCH = "UPDATE server_reports SET last_pull_at = ? WHERE server = ? AND name IN ({names})"
CHECKIN_SQLITE_READ = (f"SELECT {_COLS} FROM server_reports AS r JOIN enrollments AS e "
                       f"ON e.name = r.name AND e.server = r.server {_CERT} "
                       "WHERE r.server = ? AND r.name IN ({names})")
REPORT_PG = ("UPDATE server_reports AS r SET reported_at = %(now)s, outcome = v.outcome, "
             "installed_serial = v.installed, served_serial = v.served, detail = v.detail "
             "FROM unnest(%(names)s::text[], %(outcomes)s::text[], %(installed)s::text[], %(served)s::text[], "
             "%(details)s::text[]) AS v(name, outcome, installed, served, detail) "
             "WHERE r.server = %(server)s AND r.name = v.name")
REPORT_PG_LIBPQ = REPORT_PG
for _number, _name in enumerate(("now", "server", "names", "outcomes", "installed", "served", "details"), 1):
    REPORT_PG_LIBPQ = REPORT_PG_LIBPQ.replace(f"%({_name})s", f"${_number}")
REPORT_SQLITE = ("UPDATE server_reports SET reported_at = ?, outcome = ?, installed_serial = ?, served_serial = ?, "
                 "detail = ? WHERE server = ? AND name = ?")


# ``fleet status``: every (name, enrolled server) pair with its certificate and report; the same
# join as :meth:`.store.Store.status_rows`, for the central host's light read path
STATUS_COLUMNS = (
    "e.name", "c.server AS owner", "d.detail AS refusal_detail", "c.serial", "c.not_after", "c.issued_at", "c.prev_serial",
    "c.consecutive_failures", "c.last_error", "c.next_attempt_at", "c.cert_pin", "c.csr_pin",
    "e.csr_pin AS enrolled_pin", "e.server", "e.refusal", "r.last_pull_at", "r.reported_at", "r.outcome",
    "r.installed_serial", "r.served_serial", "r.detail",
)
STATUS_KEYS = tuple(c.rsplit(" ", 1)[-1].split(".")[-1] for c in STATUS_COLUMNS)
STATUS_FROM = ("FROM enrollments AS e LEFT OUTER JOIN certificates AS c ON c.name = e.name "
               "LEFT OUTER JOIN server_reports AS r ON r.name = e.name AND r.server = e.server "
               "LEFT OUTER JOIN refusal_details AS d ON d.name = e.name AND d.server = e.server")
STATUS_SQLITE = f"SELECT {', '.join(STATUS_COLUMNS)} {STATUS_FROM} ORDER BY e.name, e.server"
# one JSON cell: libpq hands back one string instead of 20 ctypes calls per row
STATUS_PG = (f"SELECT coalesce(json_agg(json_build_array({', '.join(c.split(' ')[0] for c in STATUS_COLUMNS)}) "
             f"ORDER BY e.name, e.server), '[]') {STATUS_FROM}")


def checkin_pg(now: str = "%(now)s", server: str = "%(server)s", names: str = "%(names)s") -> str:
    """The PostgreSQL check-in with its three parameters spelled as the caller needs them."""
    return CHECKIN_PG.format(now=now, server=server, names=names)


def read_password(path: str) -> str:
    from certbot_safedeploy.system.fsutil import read_trusted_text, unsafe_ownership

    problem = unsafe_ownership(path, require_root=os.geteuid() == 0)
    if problem:
        raise FleetError(f"store password file: {problem}", path=path,
                         fix=f"chown root:root {path} && chmod 0600 {path}")
    if os.stat(path).st_mode & 0o077:
        raise FleetError("store password file is readable by group or others", path=path,
                         fix=f"chmod 0600 {path}")
    try:
        return read_trusted_text(path, limit=4096).strip()
    except OSError as exc:
        raise FleetError(f"cannot read the store password file: {exc.strerror}", path=path,
                         fix="make it a regular file of one line, owned by root, mode 0600") from None


def _text(value: Any) -> str | None:
    """A column as text; a hostile SQLite row may hold any type."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value)


def _domains(value: Any) -> tuple[str, ...]:
    try:
        data = parse_json(_text(value) or "[]")
    except ValueError:
        return ()
    return tuple(d for d in data if isinstance(d, str)) if isinstance(data, list) else ()


def _no_nul(text: str | None) -> str | None:
    return None if text is None else text.replace("\x00", "\\x00")


def published(row: Sequence[Any]) -> Published:
    name, domains, *rest = row
    texts = [_text(v) for v in rest]
    return Published(str(name), _domains(domains), *texts)


class DirectStore:
    """Check-in and report for one server, through psycopg or sqlite3."""

    def __init__(self, settings: FleetSettings) -> None:
        self.settings = settings
        self.label = redact(settings.store)
        self._conn: Any = None
        url = urlsplit(settings.store)
        self.is_postgresql = url.scheme.lower().startswith("postgresql")
        self._url = url
        self.driver = "sqlite3"  # or "libpq" / "psycopg" once connected to PostgreSQL

    def _error(self, exc: BaseException) -> FleetError:
        text = str(exc).strip().splitlines()
        detail = (text[0] if text else type(exc).__name__)[:300]
        return FleetError(f"the fleet store is unreachable or failed: {detail}", path=self.label,
                          fix="check the database server, the URL in [fleet] store and the network; "
                              "nothing was changed on this host")

    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        if not self.is_postgresql:
            import sqlite3

            path = unquote(self.settings.store.split("?", 1)[0][len("sqlite:///"):])
            if not os.path.exists(path):
                raise FleetError("the fleet store file does not exist", path=path,
                                 fix="run `certbot-safedeploy fleet migrate` on the central host")
            try:
                self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            return self._conn
        params = self._pg_params()
        lib = None if os.environ.get(DRIVER_ENV, "").strip().lower() == "psycopg" else libpq_load()
        if lib is not None:
            from certbot_safedeploy.fleet.db.libpq import Connection, LibpqError

            try:
                self._conn = Connection(lib, params)
            except LibpqError as exc:
                raise self._error(exc) from None
            self.driver = "libpq"
            return self._conn
        import psycopg

        try:
            conninfo = psycopg.conninfo.make_conninfo("", **params)
            self._conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        self.driver = "psycopg"
        return self._conn

    def _pg_params(self) -> dict[str, str]:
        """libpq connection keywords from the store URL and the password file."""
        u = self._url
        params = dict(parse_qsl(u.query))
        params.setdefault("connect_timeout", "10")
        params.setdefault("application_name", "certbot-safedeploy")
        params.setdefault("client_encoding", "UTF8")
        # no GSSAPI-encryption probe before the startup packet (one round trip less); TLS stays as the
        # URL asks (e.g. ?sslmode=verify-full&sslrootcert=...)
        params.setdefault("gssencmode", "disable")
        # bounded like the central side's statements (store.py): in the startup packet, so no extra round trip
        params.setdefault("options", f"-c lock_timeout={int(self.settings.lock_timeout * 1000)} "
                                     f"-c statement_timeout={int(self.settings.statement_timeout * 1000)}")
        if u.username:
            params["user"] = unquote(u.username)
        if self.settings.store_password_file:
            params["password"] = read_password(self.settings.store_password_file)
        elif u.password:
            params["password"] = unquote(u.password)
        if u.hostname:
            params["host"] = u.hostname
        if u.port:
            params["port"] = str(u.port)
        if u.path.strip("/"):
            params["dbname"] = unquote(u.path.lstrip("/"))
        return params

    def _run(self, work: Any) -> Any:
        conn = self._connect()
        if self.driver == "libpq":
            from certbot_safedeploy.fleet.db.libpq import LibpqError

            errors: Any = LibpqError
        elif self.is_postgresql:
            import psycopg

            errors = psycopg.Error
        else:
            import sqlite3

            errors = sqlite3.Error
        try:
            return work(conn)
        except errors as exc:
            raise self._error(exc) from None

    def checkin(self, server: str, names: Sequence[str], now: int) -> dict[str, Published]:
        """Record a pull by ``server`` and return its names' current rows (one statement)."""
        names = list(names)

        def pg(conn: Any) -> list[Any]:
            if self.driver == "libpq":
                return conn.execute(checkin_pg(now="$1", server="$2", names="$3"),  # type: ignore[no-any-return]
                                    [str(now), server, array_literal(names)])
            return list(conn.execute(checkin_pg(), {"now": now, "server": server, "names": names}))

        def lite(conn: Any) -> list[Any]:
            marks = ", ".join("?" * len(names))
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(CHECKIN_SQLITE_TOUCH.format(names=marks), [now, server, *names])
                rows = list(conn.execute(CHECKIN_SQLITE_READ.format(names=marks), [server, *names]))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return rows

        rows = self._run(pg if self.is_postgresql else lite)
        found = [published(row) for row in rows]
        return {p.name: p for p in found}

    def report(self, server: str, reports: Sequence[ServerReport], now: int) -> None:
        """Store what ``server`` installed and serves (one statement).

        PostgreSQL text cannot hold NUL, and libpq's strings end at one: a NUL
        in a probe's text is written as ``\\x00`` instead of failing the report."""
        if not reports:
            return
        reports = [ServerReport(r.name, _no_nul(r.outcome) or "", _no_nul(r.installed_serial), _no_nul(r.served_serial),
                                _no_nul(r.detail) or "") for r in reports]

        def pg(conn: Any) -> None:
            if self.driver == "libpq":
                conn.execute(REPORT_PG_LIBPQ, [
                    str(now), server, array_literal([r.name for r in reports]),
                    array_literal([r.outcome for r in reports]),
                    array_literal([r.installed_serial for r in reports]),
                    array_literal([r.served_serial for r in reports]),
                    array_literal([r.detail[:2000] for r in reports])])
                return
            conn.execute(REPORT_PG, {
                "now": now, "server": server, "names": [r.name for r in reports],
                "outcomes": [r.outcome for r in reports], "installed": [r.installed_serial for r in reports],
                "served": [r.served_serial for r in reports], "details": [r.detail[:2000] for r in reports]})

        def lite(conn: Any) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(REPORT_SQLITE, [(now, r.outcome, r.installed_serial, r.served_serial,
                                                  r.detail[:2000], server, r.name) for r in reports])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        self._run(pg if self.is_postgresql else lite)

    def status_rows(self) -> list[dict[str, Any]]:
        """The rows of ``fleet status`` (one statement), as :meth:`.store.Store.status_rows` gives them."""
        def pg(conn: Any) -> list[Any]:
            if self.driver == "libpq":
                [(cell,)] = conn.execute(STATUS_PG, [])
            else:
                [(cell,)] = list(conn.execute(STATUS_PG))
            data = parse_json(cell) if isinstance(cell, str) else cell
            return data if isinstance(data, list) else []

        def lite(conn: Any) -> list[Any]:
            return list(conn.execute(STATUS_SQLITE))

        rows = self._run(pg if self.is_postgresql else lite)
        return [dict(zip(STATUS_KEYS, row)) for row in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
