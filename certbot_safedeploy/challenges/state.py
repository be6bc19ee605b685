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
import sys
import time
from typing import Any, Callable, Iterator

from certbot_safedeploy.challenges.stateentry import entry_problem
from certbot_safedeploy.system import fsutil, readfile
from certbot_safedeploy.syntax.jsontext import parse_json

STALE_AFTER = 3600.0  # no ACME validation takes an hour
MAX_STATE_BYTES = 4 << 20  # thousands of entries; more is not ours


def _stderr_warning(message: str) -> None:
    sys.stderr.write(f"safedeploy: warning: {message}\n")


class ManualState:
    def __init__(self, state_dir: str, warn: Callable[[str], None] = _stderr_warning) -> None:
        self.warn = warn
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
        """The usable entries; a damaged file is moved aside (with a warning) so it never blocks
        a later auth or cleanup, and the entries it still holds intact are kept."""
        try:
            data: Any = parse_json(readfile.read_text(self.path, MAX_STATE_BYTES, follow_symlinks=False))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"not JSON ({type(exc).__name__})"
            self._set_aside(reason)
            return {}
        if not isinstance(data, dict):
            self._set_aside(f"holds a {type(data).__name__}, not an object")
            return {}
        entries: dict[str, dict[str, Any]] = {}
        problems = []
        for key, entry in data.items():
            problem = entry_problem(entry)
            if problem:
                problems.append(problem)
            else:
                entries[key] = entry
        if problems:
            self._set_aside(f"{len(problems)} malformed entries ({problems[0]})", keep=entries)
        return entries

    def _set_aside(self, reason: str, keep: dict[str, dict[str, Any]] | None = None) -> None:
        aside = f"{self.path}.corrupt-{int(time.time())}"
        try:
            os.rename(self.path, aside)  # a symlink or a directory in its place is moved, not followed
        except OSError as exc:
            self.warn(f"{self.path}: {reason}; it cannot be moved aside ({exc.strerror}): remove it by hand")
            return
        self.warn(f"{self.path}: {reason}; moved to {aside}, continuing with "
                  f"{len(keep or {})} intact entries (check {aside} for records to remove by hand)")
        if keep:
            fsutil.write_file_atomic(self.path, json.dumps(keep, indent=1, sort_keys=True).encode(),
                                     fsutil.FileSpec(mode=0o600))

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8)

    @staticmethod
    def stale(entries: dict[str, dict[str, Any]], now: float | None = None) -> list[str]:
        now = now or time.time()
        return [k for k, v in entries.items() if now - float(v.get("created", 0)) > STALE_AFTER]
