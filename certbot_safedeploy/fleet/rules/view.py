"""``fleet status``: judge and render the store's rows (pure: rows in, text out).

A (name, server) pair is a problem when the server does not serve (or, with
no probe, has not installed) the published serial, when it has not pulled for
``stale_after`` hours, when the name's renewals are failing, or when the
certificate expires within a week.  The first is what fleet mode exists to
catch: a server still on the old serial after a new one was published.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from typing import Any, Mapping, Sequence

EXPIRY_WARNING = 7 * 86400
_TIMES = ("not_after", "issued_at", "last_pull_at", "reported_at", "next_attempt_at")
_TEXTS = ("serial", "installed_serial", "served_serial", "outcome", "last_error", "refusal", "owner", "server",
          "cert_pin", "csr_pin", "enrolled_pin")


@dataclasses.dataclass  # not frozen: building 10,000 frozen instances costs a third of `fleet status`
class StatusEntry:
    name: str
    server: str | None
    serial: str | None
    not_after: int | None
    issued_at: int | None
    installed_serial: str | None
    served_serial: str | None
    last_pull_at: int | None
    outcome: str | None
    failures: int
    last_error: str | None
    problems: tuple[str, ...]
    ari_window: str | None = None  # the CA's renewal window (RFC 9773), from the last ARI check

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = dict(vars(self))  # flat fields: no need for dataclasses.asdict's deep copy
        data["problems"] = list(self.problems)
        data["state"] = "ok" if self.ok else "stale" if any(
            p.startswith("STALE") for p in self.problems) else "problem"
        return data


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _int(value: Any) -> int | None:
    """A time column; a hostile SQLite row may hold any type."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _coerce(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for k in _TIMES:
        v = out.get(k)
        if v is not None and type(v) is not int:
            out[k] = _int(v)
    for k in _TEXTS:
        v = out.get(k)
        if v is not None and type(v) is not str:
            out[k] = str(v)
    return out


def judge(row: Mapping[str, Any], now: float, stale_after_hours: float, *, typed: bool = False) -> StatusEntry:
    """``typed``: the database enforced the column types (PostgreSQL), so no coercion is needed."""
    problems: list[str] = []
    if not typed:  # a hostile SQLite row may hold any type; PostgreSQL's are already right
        row = _coerce(row)
    serial, server = row["serial"], row["server"]
    failures = row["consecutive_failures"] or 0
    if not typed:
        failures = _int(failures) or 0
    refusal, owner = row.get("refusal"), row.get("owner")
    if refusal or (owner is not None and server is not None and owner != server):
        problems.append(f"REFUSED: {str(refusal)[:200]}" if refusal
                        else f"held by {owner}: the central host has not accepted this enrollment yet")
        return StatusEntry(row["name"], server, None, None, None, row["installed_serial"], row["served_serial"],
                           row["last_pull_at"], row["outcome"], 0, None, tuple(problems))
    if failures:
        problems.append(f"RENEWAL FAILING x{failures}: {(row['last_error'] or '')[:120]}")
    if serial is None:
        problems.append("awaiting issuance")
    elif row["cert_pin"] != row["csr_pin"] or row.get("enrolled_pin", row["cert_pin"]) != row["cert_pin"]:
        problems.append("rekey pending: the published certificate is for the old key")
    if server is None:
        problems.append("no server has pulled this name")
    else:
        last = row["last_pull_at"]
        if last is None:
            problems.append("STALE: never pulled")
        elif now - last > stale_after_hours * 3600:
            problems.append(f"STALE: last pull {_age(now - last)} ago")
        serves = row["served_serial"] or row["installed_serial"]
        if serial is not None and last is not None and serves != serial:
            what = f"serves {serves}" if serves else "serves nothing we know of"
            problems.append(f"STALE: {what}, published {serial}"
                            + (f" ({row['outcome']})" if row["outcome"] not in (None, "deployed") else ""))
    if row["not_after"] is not None and row["not_after"] - now < EXPIRY_WARNING:
        left = row["not_after"] - now
        problems.append("EXPIRED" if left <= 0 else f"expires in {_age(left)}")
    return StatusEntry(row["name"], server, serial, row["not_after"], row["issued_at"],
                       row["installed_serial"], row["served_serial"], row["last_pull_at"],
                       row["outcome"], failures, row["last_error"], tuple(problems))


def _short(serial: str | None) -> str:
    if not serial:
        return "-"
    return serial if len(serial) <= 14 else serial[:12] + ".."


@functools.lru_cache(maxsize=4096)
def _date(epoch: int | None) -> str:
    if epoch is None:
        return "-"
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")


def render_table(entries: Sequence[StatusEntry], now: float, *, color: bool = False) -> str:
    ari = any(e.ari_window for e in entries)  # the column only where the CA offers renewal windows
    header = ("NAME", "SERVER", "PUBLISHED", "EXPIRES", "SERVES", "LAST PULL", *(("ARI WINDOW",) if ari else ()),
              "STATE")
    rows: list[tuple[str, ...]] = [header]
    for e in entries:
        serves = e.served_serial or (f"{_short(e.installed_serial)}(inst)" if e.installed_serial else None)
        rows.append((e.name, e.server or "-", _short(e.serial), _date(e.not_after),
                     _short(serves) if e.served_serial else (serves or "-"),
                     _age(now - e.last_pull_at) + " ago" if e.last_pull_at else "never",
                     *((e.ari_window or "-",) if ari else ()),
                     "ok" if e.ok else "!! " + "; ".join(e.problems)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = []
    for i, r in enumerate(rows):
        line = "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1]
        if color and i and not entries[i - 1].ok:
            line = f"\033[1;31m{line}\033[0m"
        lines.append(line)
    bad = sum(1 for e in entries if not e.ok)
    lines.append(f"{len(entries)} name/server pair(s), {bad} with problems")
    return "\n".join(lines)
