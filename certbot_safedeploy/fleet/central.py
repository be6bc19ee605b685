"""The central host's authority: the allow list, accepting enrollments, roles.

``fleet allow``/``disallow`` edit which DNS names each server may hold (exact
names; a wildcard is written ``*.example.com`` and covers nothing else).
Servers only *ask* (their own ``enrollments`` row); :func:`accept` runs at the
start of every ``fleet renew`` and decides, per enrollment:

* every name in the stored CSR (subjectAltNames and CN) and in the row must be
  allowed for the server that enrolled it, the row's names must be the CSR's,
  and the row's pin the CSR key's pin; otherwise the enrollment is refused;
* a name another server holds moves only if the enrollment asked for a
  takeover *and* the central host approved that very server and key
  (``fleet approve NAME --to SERVER`` or ``fleet disallow OLD --to NEW``);
* a re-enrollment with a new key is a key change: it is notified with the old
  and new pins, and with ``[fleet] approve_key_changes`` waits for ``fleet
  approve`` too;
* the per-server limits of ``[fleet]`` hold (PostgreSQL's triggers enforce them
  as rows are written; this step enforces them again, exactly).

Accepted CSRs are copied to ``certificates``, which only the central host
writes.  A refusal is stored twice: the enrollment row (which its server
reads) says only what that server may know ("name not allowed for this
server", never who holds a name), ``refusal_details`` (central-only) keeps the
detail for ``fleet status``; it is sent through ``[notify]`` once, when it
first appears.  Rows that another session holds locked are skipped, never
waited on (``FOR UPDATE SKIP LOCKED``), and so is every other row of the same
name, so that a lock can never change who wins a name.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.db import roles as pgroles
from certbot_safedeploy.fleet.db.schema import (allowed_names, approvals, attempts, certificates, enrollments,
                                                refusal_details, server_reports)
from certbot_safedeploy.fleet.db.store import Store
from certbot_safedeploy.syntax.jsontext import parse_json


NOT_ALLOWED = "name not allowed for this server"  # all that a server is told about another's name


@dataclasses.dataclass(frozen=True)
class KeyChange:
    name: str
    server: str
    old_pin: str
    new_pin: str
    accepted: bool  # False: it waits for `fleet approve` ([fleet] approve_key_changes)


@dataclasses.dataclass
class Acceptance:
    accepted: list[str] = dataclasses.field(default_factory=list)  # lines
    refused: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (name, server, why)
    new_refusals: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    dropped: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # old holders after a takeover
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # rows a session held locked
    key_changes: list[KeyChange] = dataclasses.field(default_factory=list)  # to notify


@dataclasses.dataclass(frozen=True)
class Limits:
    enrollments: int = 100
    names_per_csr: int = 100
    csr_bytes: int = 16384
    approve_key_changes: bool = False

    @classmethod
    def of(cls, settings: Any) -> "Limits":
        if settings is None:
            return cls()
        return cls(settings.max_enrollments_per_server, settings.max_names_per_csr, settings.max_csr_bytes,
                   settings.approve_key_changes)


def _json_names(text: Any) -> list[str] | None:
    try:
        data = parse_json(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        return None
    return data


def check_request(server: str, domains_text: Any, csr_pem: Any, csr_pin: Any, allowed: set[str],
                  limits: Limits = Limits()) -> tuple[str, str] | None:
    """(detail for the central host, text for the server) if this enrollment must not be issued."""
    from certbot_safedeploy.fleet.rules.csr import read_csr

    if len(str(csr_pem)) + len(str(domains_text)) > limits.csr_bytes:
        why = f"the CSR is larger than {limits.csr_bytes} bytes (max_csr_bytes)"
        return why, why
    domains = _json_names(domains_text)
    if domains is None:
        why = "the enrollment's domain list is not a JSON list of names"
        return why, why
    if len(domains) > limits.names_per_csr:
        why = f"more than {limits.names_per_csr} names (max_names_per_csr)"
        return why, why
    try:
        info = read_csr(csr_pem.encode("ascii") if isinstance(csr_pem, str) else b"")
    except FleetError as exc:
        return exc.message, exc.message
    except Exception as exc:  # noqa: BLE001 - a hostile row must be a refusal, never a traceback
        why = f"the stored CSR cannot be read: {type(exc).__name__}: {exc}"[:300]
        return why, why
    names = list(dict.fromkeys([*info.domains, *info.common_names]))
    missing = [d for d in dict.fromkeys([*names, *domains]) if d not in allowed]
    if missing:
        return (f"not allowed for server {server!r}: {', '.join(missing)} (fix on the central host, if it "
                f"should: fleet allow {server} " + " ".join(f"--domain {d}" for d in missing) + ")"), NOT_ALLOWED
    if len(info.domains) > limits.names_per_csr:
        why = f"the CSR has more than {limits.names_per_csr} names (max_names_per_csr)"
        return why, why
    if set(info.domains) != set(domains):
        why = f"the CSR names {', '.join(info.domains)} but the enrollment lists {', '.join(domains)}"
        return why, why
    if info.pin != csr_pin:
        why = "the enrollment's pin is not the CSR key's pin"
        return why, why
    return None


def _skipped_rows(conn: sa.Connection) -> tuple[Sequence[Any], set[tuple[str, str]]]:
    """Every enrollment row, locked; rows another session holds are skipped (PostgreSQL), never waited on."""
    e = enrollments
    query = sa.select(e).order_by(e.c.name, e.c.enrolled_at, e.c.server)
    if conn.dialect.name != "postgresql":
        return conn.execute(query).all(), set()
    keys: set[tuple[str, str]] = {(r.name, r.server) for r in conn.execute(sa.select(e.c.name, e.c.server))}
    rows = conn.execute(query.with_for_update(skip_locked=True)).all()
    return rows, keys - {(r.name, r.server) for r in rows}


def _judge(row: Any, held: Any, approved: str | None, allowed: set[str], limits: Limits,
           count: int) -> tuple[str, str] | None:
    if count > limits.enrollments:
        why = f"server {row.server!r} has more than {limits.enrollments} enrollments (max_enrollments_per_server)"
        return why, why
    if held is not None and held.server != row.server:
        if not row.takeover:
            return (f"{row.name} is held by server {held.server!r}; enroll with --takeover to ask the central "
                    "host to move it"), NOT_ALLOWED
        if approved != row.csr_pin:
            return (f"takeover from {held.server!r} awaits approval (on the central host: fleet approve "
                    f"{row.name} --to {row.server})"), "takeover awaits the central host's approval"
    checked = check_request(row.server, row.domains, row.csr_pem, row.csr_pin, allowed, limits)
    if checked is None and held is not None and held.server == row.server and held.csr_pin != row.csr_pin \
            and limits.approve_key_changes and approved != row.csr_pin:
        return (f"key change {held.csr_pin} -> {row.csr_pin} awaits approval (on the central host: fleet "
                f"approve {row.name} --to {row.server})"), "the new key awaits the central host's approval"
    return checked


def accept(store: Store, now: int, settings: Any = None) -> Acceptance:
    """Decide every enrollment against the allow list (see the module docstring)."""
    c, e, d = certificates, enrollments, refusal_details
    limits = Limits.of(settings)
    result = Acceptance()
    with store._begin() as conn:
        allowed: dict[str, set[str]] = {}
        for server, domain in conn.execute(sa.select(allowed_names.c.server, allowed_names.c.domain)):
            allowed.setdefault(server, set()).add(domain)
        holders = {row.name: row for row in conn.execute(sa.select(c.c.name, c.c.server, c.c.csr_pin,
                                                                   c.c.csr_pem, c.c.domains))}
        approved = {(r.name, r.server): r.csr_pin for r in conn.execute(sa.select(approvals))}
        details = {(r.name, r.server): r.detail for r in conn.execute(sa.select(d))}
        rows, skipped = _skipped_rows(conn)
        result.skipped = sorted(skipped)
        unjudged = {name for name, _ in skipped}  # a name with a locked row waits for the next run
        counts: dict[str, int] = {}
        for row in rows:
            if row.name in unjudged:
                continue
            counts[row.server] = counts.get(row.server, 0) + 1
            held = holders.get(row.name)
            why = _judge(row, held, approved.get((row.name, row.server)), allowed.get(row.server, set()),
                         limits, counts[row.server])
            if why is None:
                if not _take(conn, row, held, now, result):
                    result.skipped.append((row.name, str(getattr(held, "server", ""))))
                    continue
                holders[row.name] = row
            else:
                result.refused.append((row.name, row.server, why[0]))
            shown, detail = (None, None) if why is None else (why[1], why[0])
            key = (row.name, row.server)
            if shown != row.refusal:
                conn.execute(sa.update(e).where(e.c.name == row.name, e.c.server == row.server)
                             .values(refusal=shown))
            if detail != details.get(key):
                conn.execute(sa.delete(d).where(d.c.name == row.name, d.c.server == row.server))
                if detail is not None:
                    conn.execute(sa.insert(d).values(name=row.name, server=row.server, detail=detail))
                    result.new_refusals.add(key)
                    if detail.startswith("key change") and held is not None:
                        result.key_changes.append(KeyChange(row.name, row.server, held.csr_pin, row.csr_pin, False))
    result.refused = [r for r in result.refused if (r[0], r[1]) not in result.dropped]
    result.new_refusals -= result.dropped
    return result


def _lock_old_holder(conn: sa.Connection, name: str, server: str) -> bool:
    """Lock the old holder's rows without waiting (its server may hold them); False if it does."""
    if conn.dialect.name != "postgresql":
        return True
    try:
        with conn.begin_nested():
            conn.execute(sa.text("SELECT 1 FROM server_reports WHERE name = :n AND server = :s FOR UPDATE NOWAIT"),
                         {"n": name, "s": server})
    except sa.exc.OperationalError:
        return False
    return True


def _take(conn: sa.Connection, row: Any, held: Any, now: int, result: Acceptance) -> bool:
    c, e = certificates, enrollments
    request = {"domains": row.domains, "key_type": row.key_type, "server": row.server, "csr_pem": row.csr_pem,
               "csr_pin": row.csr_pin, "enrolled_at": row.enrolled_at}
    if held is None:
        conn.execute(sa.insert(c).values(name=row.name, **request))
        result.accepted.append(f"{row.name}: accepted the enrollment of server {row.server!r}")
    elif held.server != row.server:
        if not _lock_old_holder(conn, row.name, held.server):
            return False
        conn.execute(sa.update(c).where(c.c.name == row.name).values(
            **request, consecutive_failures=0, next_attempt_at=None, last_error=None))
        conn.execute(sa.delete(e).where(e.c.name == row.name, e.c.server == held.server))
        conn.execute(sa.delete(approvals).where(approvals.c.name == row.name))
        result.dropped.add((row.name, held.server))
        result.accepted.append(f"{row.name}: moved from server {held.server!r} to {row.server!r} (takeover approved)")
    elif (held.csr_pin, held.csr_pem, held.domains) != (row.csr_pin, row.csr_pem, row.domains):
        conn.execute(sa.update(c).where(c.c.name == row.name).values(
            **request, consecutive_failures=0, next_attempt_at=None, last_error=None))
        conn.execute(sa.delete(approvals).where(approvals.c.name == row.name))
        if held.csr_pin != row.csr_pin:
            result.key_changes.append(KeyChange(row.name, row.server, held.csr_pin, row.csr_pin, True))
            result.accepted.append(f"{row.name}: accepted the new key of server {row.server!r} "
                                   f"({held.csr_pin} -> {row.csr_pin})")
        else:
            result.accepted.append(f"{row.name}: accepted the new CSR of server {row.server!r}")
    return True


def approve(store: Store, name: str, server: str, now: int) -> str:
    """Approve ``server``'s current enrollment of ``name`` (a takeover or a key change), for its key only."""
    e = enrollments
    with store._begin() as conn:
        pin = conn.execute(sa.select(e.c.csr_pin).where(e.c.name == name, e.c.server == server)).scalar()
        if pin is None:
            raise FleetError(f"server {server!r} has no enrollment of {name!r}", path=store.label,
                             fix="see `fleet status` for the servers that asked for it")
        conn.execute(sa.delete(approvals).where(approvals.c.name == name, approvals.c.server == server))
        conn.execute(sa.insert(approvals).values(name=name, server=server, csr_pin=pin, approved_at=now))
    return str(pin)


def allow(store: Store, server: str, domains: Sequence[str], now: int) -> list[str]:
    """Add names to ``server``'s allow list; return the ones that were new."""
    a = allowed_names
    with store._begin() as conn:
        have = set(conn.execute(sa.select(a.c.domain).where(a.c.server == server)).scalars())
        new = [d for d in domains if d not in have]
        if new:
            conn.execute(sa.insert(a), [{"server": server, "domain": d, "added_at": now} for d in new])
    return new


def disallow(store: Store, server: str, domains: Sequence[str], *, to: str | None = None,
             now: int = 0) -> tuple[list[str], list[str]]:
    """Remove names from ``server``'s allow list; with ``to``, approve that server's takeovers of them.

    Returns (the domains that were there, the certificate names whose takeover was approved)."""
    a, c, e = allowed_names, certificates, enrollments
    with store._begin() as conn:
        where = (a.c.server == server, a.c.domain.in_(list(domains)))
        gone = list(conn.execute(sa.select(a.c.domain).where(*where)).scalars())
        conn.execute(sa.delete(a).where(*where))
        moved: list[tuple[str, str]] = []
        if to is not None:
            held = {r.name for r in conn.execute(sa.select(c.c.name, c.c.domains).where(c.c.server == server))
                    if set(_json_names(r.domains) or ()) & set(domains)}
            moved = [(r.name, r.csr_pin) for r in conn.execute(sa.select(e.c.name, e.c.csr_pin).where(
                e.c.server == to, e.c.takeover == sa.true(), e.c.name.in_(sorted(held))))]
            for name, pin in moved:
                conn.execute(sa.delete(approvals).where(approvals.c.name == name, approvals.c.server == to))
                conn.execute(sa.insert(approvals).values(name=name, server=to, csr_pin=pin, approved_at=now))
    return [d for d in domains if d in gone], [name for name, _ in moved]


def allowed_list(store: Store) -> dict[str, list[str]]:
    a = allowed_names
    with store._begin() as conn:
        rows = conn.execute(sa.select(a.c.server, a.c.domain).order_by(a.c.server, a.c.domain)).all()
    out: dict[str, list[str]] = {}
    for server, domain in rows:
        out.setdefault(server, []).append(domain)
    return out


def forget(store: Store, name: str) -> int:
    """Drop a certificate name and every row about it; return how many rows went."""
    with store._begin() as conn:
        count = 0
        for table in (server_reports, enrollments, certificates, attempts, approvals, refusal_details):
            count += conn.execute(sa.delete(table).where(table.c.name == name)).rowcount or 0
    return count


def grant(store: Store, server: str, password: str, connection_limit: int = pgroles.DEFAULT_CONNECTION_LIMIT
          ) -> list[str]:
    """Create or re-password the PostgreSQL login role of ``server``."""
    if not store.is_postgresql:
        raise FleetError("database roles exist only on PostgreSQL; a SQLite store is one file that every "
                         "host using it can write", path=store.label,
                         fix="use a postgresql+psycopg:// store for a fleet with per-server roles")
    if len(server.encode()) > 63 or server.lower().startswith("pg_"):
        raise FleetError(f"{server!r} cannot be a PostgreSQL role name (63 bytes at most, no pg_ prefix)",
                         fix="choose a shorter [fleet] server name for that server")
    if len(password) < 16 or not password.isprintable():
        raise FleetError("the password must be at least 16 printable characters",
                         fix="head -c 24 /dev/urandom | base64 > FILE && chmod 0600 FILE")
    with store._begin() as conn:
        row = conn.execute(sa.text(
            "SELECT r.rolsuper, EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE m.member = r.oid AND g.rolname = :group) FROM pg_roles r WHERE r.rolname = :name"),
            {"group": pgroles.GROUP, "name": server}).first()
        if row is not None and (row[0] or not row[1]):
            raise FleetError(f"a PostgreSQL role {server!r} exists and is not a fleet server role",
                             path=store.label, fix="name that server differently in its [fleet] server")
        for statement in pgroles.role_statements(server, pgroles.scram_verifier(password), row is not None,
                                                 connection_limit):
            conn.exec_driver_sql(statement)  # a verifier, never the password itself
    return [f"{'updated' if row is not None else 'created'} login role {server!r} (member of {pgroles.GROUP}) "
            f"in {store.label}, at most {connection_limit} connection(s)",
            f"on {server}: store = \"postgresql+psycopg://{server}@HOST/DB\" and store_password_file = the same "
            "password, root-owned 0600"]
