"""What ``ari`` keeps per lineage between runs: ``<state_dir>/ari/<name>.json``.

The record belongs to one certificate (its ARI ``certID``): when the lineage holds a
new certificate, the old record no longer applies.  It holds the next time a request
may be sent (``Retry-After``, or the back-off after a failure), the last window the CA
suggested, and the time chosen inside it.  Written atomically through
:mod:`certbot_safedeploy.system.fsutil`; a record that does not parse is ignored (the
next check rewrites it), never trusted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any

from certbot_safedeploy.errors import InstallError
from certbot_safedeploy.syntax.renewalinfo import Window
from certbot_safedeploy.system import fsutil
from certbot_safedeploy.syntax.jsontext import parse_json

SUBDIR = "ari"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@*-]{0,254}$")


@dataclasses.dataclass(frozen=True)
class Record:
    cert_id: str
    next_check: float = 0.0
    window: Window | None = None
    chosen: float | None = None
    checked_at: float | None = None
    failures: int = 0
    last_error: str = ""
    renewed_at: float | None = None  # when ``ari`` last ran certbot for this certificate

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["window"] = dataclasses.asdict(self.window) if self.window else None
        return data


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value < 1e11:  # before year 5138
        return None
    return float(value)


def from_json(data: Any) -> Record | None:
    """A Record from parsed JSON, or None when anything is off."""
    if not isinstance(data, dict) or not isinstance(data.get("cert_id"), str):
        return None
    window = None
    raw = data.get("window")
    if isinstance(raw, dict):
        start, end, url = _number(raw.get("start")), _number(raw.get("end")), raw.get("explanation_url")
        if start is None or end is None or end <= start or not (url is None or isinstance(url, str)):
            return None
        window = Window(start, end, url)
    failures = data.get("failures", 0)
    return Record(data["cert_id"], _number(data.get("next_check")) or 0.0, window,
                  _number(data.get("chosen")), _number(data.get("checked_at")),
                  failures if isinstance(failures, int) and 0 <= failures < 1000 else 0,
                  str(data.get("last_error") or "")[:500], _number(data.get("renewed_at")))


def path_for(state_dir: str, name: str) -> str:
    if not _NAME.match(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a certificate name")
    return os.path.join(state_dir, SUBDIR, f"{name}.json")


def load(state_dir: str, name: str, cert_id: str | None = None) -> Record | None:
    """The record of ``name`` (for ``cert_id``, if given), or None."""
    try:
        text = fsutil.read_trusted_text(path_for(state_dir, name), limit=64 * 1024)
        record = from_json(parse_json(text))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError, InstallError):
        return None
    if record is None or (cert_id is not None and record.cert_id != cert_id):
        return None
    return record


def save(state_dir: str, name: str, record: Record) -> None:
    path = path_for(state_dir, name)
    fsutil.make_private_dir(state_dir)
    fsutil.make_private_dir(os.path.dirname(path))
    data = json.dumps(record.as_json(), indent=1, sort_keys=True).encode()
    fsutil.write_file_atomic(path, data, fsutil.FileSpec(mode=0o600))
