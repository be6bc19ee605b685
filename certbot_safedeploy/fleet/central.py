"""The central host's authority: the allow list, accepting enrollments, roles.

``fleet allow``/``disallow`` edit which DNS names each server may hold (exact
names; a wildcard is written ``*.example.com`` and covers nothing else).
Servers only *ask* (their own ``enrollments`` row); :func:`accept` runs at the
start of every ``fleet renew`` and decides, per enrollment:

* every name in the stored CSR (subjectAltNames and CN) and in the row must be
  allowed for the server that enrolled it, the row's names must be the CSR's,
  and the row's pin the CSR key's pin; otherwise the enrollment is refused;
* a name another server holds moves only if the enrollment asked for a
  takeover *and* the central host approved it by taking the names away from
  the old holder (``fleet disallow OLD --domain ...``).

Accepted CSRs are copied to ``certificates``, which only the central host
writes; a refusal is stored on the enrollment (``fleet status`` shows it) and
sent through ``[notify]`` once, when it first appears.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Sequence

import sqlalchemy as sa

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.db import roles as pgroles
from certbot_safedeploy.fleet.db.schema import allowed_names, attempts, certificates, enrollments, server_reports
from certbot_safedeploy.fleet.db.store import Store


@dataclasses.dataclass
class Acceptance:
    accepted: list[str] = dataclasses.field(default_factory=list)  # lines
    refused: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (name, server, why)
    new_refusals: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    dropped: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # old holders after a takeover


def _json_names(text: Any) -> list[str] | None:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        return None
    return data


def check_request(server: str, domains_text: Any, csr_pem: Any, csr_pin: Any, allowed: set[str]) -> str | None:
    """Why this enrollment must not be issued, or None (the CSR is parsed here)."""
    from certbot_safedeploy.fleet.rules.csr import read_csr

    domains = _json_names(domains_text)
    if domains is None:
        return "the enrollment's domain list is not a JSON list of names"
    try:
        info = read_csr(csr_pem.encode("ascii") if isinstance(csr_pem, str) else b"")
    except FleetError as exc:
        return exc.message
    except Exception as exc:  # noqa: BLE001 - a hostile row must be a refusal, never a traceback
        return f"the stored CSR cannot be read: {type(exc).__name__}: {exc}"[:300]
    names = list(dict.fromkeys([*info.domains, *info.common_names]))
    missing = [d for d in dict.fromkeys([*names, *domains]) if d not in allowed]
    if missing:
        return (f"not allowed for server {server!r}: {', '.join(missing)} (fix on the central host, if it "
                f"should: fleet allow {server} " + " ".join(f"--domain {d}" for d in missing) + ")")
    if set(info.domains) != set(domains):
        return f"the CSR names {', '.join(info.domains)} but the enrollment lists {', '.join(domains)}"
    if info.pin != csr_pin:
        return "the enrollment's pin is not the CSR key's pin"
    return None


def accept(store: Store, now: int) -> Acceptance:
    """Decide every enrollment against the allow list (see the module docstring)."""
    c, e = certificates, enrollments
    result = Acceptance()
    with store._begin() as conn:
        allowed: dict[str, set[str]] = {}
        for server, domain in conn.execute(sa.select(allowed_names.c.server, allowed_names.c.domain)):
            allowed.setdefault(server, set()).add(domain)
        holders = {row.name: row for row in conn.execute(sa.select(c.c.name, c.c.server, c.c.csr_pin,
                                                                   c.c.csr_pem, c.c.domains))}
        rows = conn.execute(sa.select(e).order_by(e.c.name, e.c.enrolled_at, e.c.server)).all()
        for row in rows:
            held = holders.get(row.name)
            why = None
            if held is not None and held.server != row.server:
                if not row.takeover:
                    why = (f"{row.name} is held by server {held.server!r}; enroll with --takeover to ask "
                           "the central host to move it")
                else:
                    kept = [d for d in (_json_names(held.domains) or []) if d in allowed.get(held.server, set())]
                    if kept:
                        why = (f"takeover from {held.server!r} awaits approval (on the central host: fleet "
                               f"disallow {held.server} " + " ".join(f"--domain {d}" for d in kept) + ")")
            why = why or check_request(row.server, row.domains, row.csr_pem, row.csr_pin,
                                       allowed.get(row.server, set()))
            if why is None:
                _take(conn, row, held, now, result)
                holders[row.name] = row
            else:
                result.refused.append((row.name, row.server, why))
            if why != row.refusal:
                conn.execute(sa.update(e).where(e.c.name == row.name, e.c.server == row.server)
                             .values(refusal=why))
                if why is not None:
                    result.new_refusals.add((row.name, row.server))
    result.refused = [r for r in result.refused if (r[0], r[1]) not in result.dropped]
    result.new_refusals -= result.dropped
    return result


def _take(conn: sa.Connection, row: Any, held: Any, now: int, result: Acceptance) -> None:
    c, e = certificates, enrollments
    request = {"domains": row.domains, "key_type": row.key_type, "server": row.server, "csr_pem": row.csr_pem,
               "csr_pin": row.csr_pin, "enrolled_at": row.enrolled_at}
    if held is None:
        conn.execute(sa.insert(c).values(name=row.name, **request))
        result.accepted.append(f"{row.name}: accepted the enrollment of server {row.server!r}")
    elif held.server != row.server:
        conn.execute(sa.update(c).where(c.c.name == row.name).values(
            **request, consecutive_failures=0, next_attempt_at=None, last_error=None))
        conn.execute(sa.delete(e).where(e.c.name == row.name, e.c.server == held.server))
        result.dropped.add((row.name, held.server))
        result.accepted.append(f"{row.name}: moved from server {held.server!r} to {row.server!r} (takeover approved)")
    elif (held.csr_pin, held.csr_pem, held.domains) != (row.csr_pin, row.csr_pem, row.domains):
        conn.execute(sa.update(c).where(c.c.name == row.name).values(
            **request, consecutive_failures=0, next_attempt_at=None, last_error=None))
        result.accepted.append(f"{row.name}: accepted the new CSR of server {row.server!r}")


def allow(store: Store, server: str, domains: Sequence[str], now: int) -> list[str]:
    """Add names to ``server``'s allow list; return the ones that were new."""
    a = allowed_names
    with store._begin() as conn:
        have = set(conn.execute(sa.select(a.c.domain).where(a.c.server == server)).scalars())
        new = [d for d in domains if d not in have]
        if new:
            conn.execute(sa.insert(a), [{"server": server, "domain": d, "added_at": now} for d in new])
    return new


def disallow(store: Store, server: str, domains: Sequence[str]) -> list[str]:
    """Remove names from ``server``'s allow list; return the ones that were there."""
    a = allowed_names
    with store._begin() as conn:
        where = (a.c.server == server, a.c.domain.in_(list(domains)))
        gone = list(conn.execute(sa.select(a.c.domain).where(*where)).scalars())
        conn.execute(sa.delete(a).where(*where))
    return [d for d in domains if d in gone]


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
        for table in (server_reports, enrollments, certificates, attempts):
            count += conn.execute(sa.delete(table).where(table.c.name == name)).rowcount or 0
    return count


def grant(store: Store, server: str, password: str) -> list[str]:
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
        for statement in pgroles.role_statements(server, pgroles.scram_verifier(password), row is not None):
            conn.exec_driver_sql(statement)  # a verifier, never the password itself
    return [f"{'updated' if row is not None else 'created'} login role {server!r} (member of {pgroles.GROUP}) "
            f"in {store.label}",
            f"on {server}: store = \"postgresql+psycopg://{server}@HOST/DB\" and store_password_file = the same "
            "password, root-owned 0600"]
