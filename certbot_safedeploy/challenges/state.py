"""What the manual auth hook created, so cleanup removes exactly that.

certbot runs ``--manual-auth-hook`` and ``--manual-cleanup-hook`` as separate
processes.  Every token file and TXT value the auth hook creates is recorded in
``STATE_DIR/manual-state.json`` (under an flock, written atomically), and its id
is printed so certbot hands it to cleanup as ``CERTBOT_AUTH_OUTPUT``.  Entries
older than :data:`STALE_AFTER` were left by a crash between auth and cleanup;
the next auth run removes what they describe.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from typing import Any, Iterator

from certbot_safedeploy.system import fsutil

STALE_AFTER = 3600.0  # no ACME validation takes an hour


class ManualState:
    def __init__(self, state_dir: str) -> None:
        self.dir = state_dir
        self.path = os.path.join(state_dir, "manual-state.json")
        self.lock_path = os.path.join(state_dir, "manual-state.lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Yield the entries under an exclusive lock; write them back on success."""
        fsutil.make_private_dir(self.dir)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entries = self._read()
            before = json.dumps(entries, sort_keys=True)
            yield entries
            if json.dumps(entries, sort_keys=True) != before:
                fsutil.write_file_atomic(self.path, json.dumps(entries, indent=1, sort_keys=True).encode(),
                                         fsutil.FileSpec(mode=0o600))
        finally:
            os.close(fd)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # a corrupt state file must not block renewals; stale records age out
        return data if isinstance(data, dict) else {}

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    @staticmethod
    def stale(entries: dict[str, dict[str, Any]], now: float | None = None) -> list[str]:
        now = now or time.time()
        return [k for k, v in entries.items() if now - float(v.get("created", 0)) > STALE_AFTER]
