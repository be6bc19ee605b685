"""Which entries of ``manual-state.json`` are well formed (pure).

The state file is ours, but a crash, a full disk or a hand edit can leave
anything in it.  An entry is used only when every field the hooks read has the
type they expect; anything else is reported so the file can be set aside.
"""

from __future__ import annotations

from typing import Any

_RECORD_TEXT = ("zone", "name", "value")


def _text(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value and len(value) <= 4096


def entry_problem(entry: Any) -> str:
    """Why ``entry`` cannot be used, or '' when it can."""
    if not isinstance(entry, dict):
        return f"an entry is a {type(entry).__name__}, not an object"
    created = entry.get("created", 0)
    if isinstance(created, bool) or not isinstance(created, (int, float)) or not -1e12 < created < 1e12:
        return "'created' is not a time"
    kind = entry.get("kind")
    if kind == "http-01":
        dirs = entry.get("created_dirs")
        if not _text(entry.get("path")) or not isinstance(dirs, list) or not all(_text(d) for d in dirs):
            return "an http-01 entry needs 'path' and 'created_dirs' (strings)"
        return ""
    if kind == "dns-01":
        if "value" in entry and not _text(entry["value"]):
            return "a dns-01 'value' is not a string"
        record = entry.get("record", entry)
        if not isinstance(record, dict) or not all(_text(record.get(k)) for k in _RECORD_TEXT):
            return "a dns-01 entry needs a record with 'zone', 'name' and 'value' (strings)"
        if "server" in record and not isinstance(record["server"], str):
            return "a dns-01 record's 'server' is not a string"
        if record.get("tsig_key") is not None and not _text(record["tsig_key"]):
            return "a dns-01 record's 'tsig_key' is not a path"
        port = record.get("dns_port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            return "a dns-01 record's 'dns_port' is not a port"
        return ""
    return f"unknown kind {str(kind)[:20]!r}"
