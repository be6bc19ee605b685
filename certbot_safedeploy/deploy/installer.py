"""Install planned files: stage, back up, journal, rename; restore; recover.

All files of one deploy are staged (complete and fsynced) beside their
destinations before anything live changes.  The previous file is kept as a hard
link in ``<dir>/.safedeploy-backup/``.  A journal written atomically before the
first rename lists every (staged, destination, backup) triple, so a crash between
two renames is finished by the next run (:meth:`Installer.recover`) instead of
leaving a key from one generation beside a certificate from another.  POSIX has
no multi-file rename; the journal is what makes the set atomic across crashes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
from typing import Sequence

from certbot_safedeploy.system import fsutil, readfile
from certbot_safedeploy.errors import InstallError
from certbot_safedeploy.deploy.plan import PlannedFile
from certbot_safedeploy.syntax.jsontext import parse_json

BACKUP_DIR = ".safedeploy-backup"
_KILL_ENV = "SAFEDEPLOY_TEST_KILL_AT"  # test-only fault injection
_TRACE_ENV = "SAFEDEPLOY_TEST_TRACE"



class InterruptedInstall(Exception):
    """A rename failed after the journal was written: some live files may be new.

    ``records`` describes every planned file with its backup, so
    :meth:`Installer.restore` puts the previous set back."""

    def __init__(self, records: list["Installed"], cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.records = records
        self.cause = cause


def checkpoint(name: str) -> None:
    """Test-only fault injection: SIGKILL ourselves at the named step."""
    trace = os.environ.get(_TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")
    if os.environ.get(_KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclasses.dataclass(frozen=True)
class Installed:
    dest: str
    backup: str | None  # None: the destination did not exist before
    changed: bool


def _backup_path(dest: str, generation: int) -> str:
    directory, base = os.path.split(dest)
    return os.path.join(directory, BACKUP_DIR, f"{base}.{generation}")


def _same_file(dest: str, planned: PlannedFile) -> bool:
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != planned.spec.mode:
        return False
    if planned.spec.uid not in (-1, st.st_uid) or planned.spec.gid not in (-1, st.st_gid):
        return False
    if st.st_size != len(planned.data):
        return False
    try:  # no symlink, FIFO or growing file swapped in since the lstat: the bounded reader checks again
        return readfile.read_bytes(dest, len(planned.data), follow_symlinks=False) == planned.data
    except OSError:
        return False


def _check_destination(dest: str) -> None:
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(dest)):
            raise InstallError("the destination directory does not exist", path=dest,
                               fix=f"mkdir -p {os.path.dirname(dest)}") from None
        return
    if stat.S_ISLNK(st.st_mode):
        raise InstallError("destination is a symlink; refusing to replace it", path=dest,
                           fix="point the config at the real file, or remove the link")
    if not stat.S_ISREG(st.st_mode):
        raise InstallError("destination is not a regular file", path=dest,
                           fix="remove it or choose another path")


def _parse_journal(journal: object, path: str) -> tuple[str, list[tuple[str, str | None, str | None]]]:
    """(direction, [(dest, staged, backup)]) of a journal; InstallError if its shape is wrong."""
    bad = InstallError("malformed journal", path=path,
                       fix="inspect the destinations by hand, then delete the journal")

    def optional_path(value: object) -> str | None:
        if value is None or (isinstance(value, str) and os.path.isabs(value)):
            return value
        raise bad

    if not isinstance(journal, dict) or journal.get("direction") not in ("forward", "back"):
        raise bad
    raw = journal.get("entries")
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise bad
    entries = []
    for entry in raw:
        dest = optional_path(entry.get("dest"))
        if dest is None:
            raise bad
        entries.append((dest, optional_path(entry.get("staged")), optional_path(entry.get("backup"))))
    return str(journal["direction"]), entries


def journals(state_dir: str) -> list[str]:
    """Lineage names with a journal in ``state_dir`` (an install or rollback in flight)."""
    directory = os.path.join(state_dir, "journal")
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n[:-len(".json")] for n in names if n.endswith(".json") and not n.startswith("."))


class Installer:
    """Installs one lineage's files; one journal per lineage."""

    def __init__(self, state_dir: str, lineage: str, backups: int) -> None:
        self.journal_dir = os.path.join(state_dir, "journal")
        self.journal = os.path.join(self.journal_dir, f"{lineage}.json")
        self.backups = max(backups, 1)  # one generation is needed to roll back

    # -- journal ---------------------------------------------------------
    def _write_journal(self, direction: str, entries: list[dict[str, str | None]]) -> None:
        fsutil.make_private_dir(self.journal_dir)
        body = json.dumps({"direction": direction, "entries": entries}, indent=1).encode()
        fsutil.write_file_atomic(self.journal, body, fsutil.FileSpec(mode=0o600))

    def _clear_journal(self) -> None:
        fsutil.unlink_quietly([self.journal])
        if os.path.isdir(self.journal_dir):
            fsutil.fsync_dir(self.journal_dir)

    def recover(self) -> str:
        """Finish an install or restore that a crash interrupted; '' if none."""
        try:
            journal = parse_json(readfile.read_text(self.journal, 1 << 20, follow_symlinks=False))
        except FileNotFoundError:
            return ""
        except (OSError, ValueError, RecursionError) as exc:
            raise InstallError(f"unreadable journal: {exc}", path=self.journal,
                               fix="inspect the destinations by hand, then delete the journal") from None
        direction, entries = _parse_journal(journal, self.journal)
        for dest, staged, backup in entries:
            if direction == "forward":
                if staged and os.path.exists(staged):
                    fsutil.commit_file(staged, dest)
            else:
                self._restore_one(dest, backup)
        self._clear_journal()
        return (f"recovered an interrupted {'install' if direction == 'forward' else 'rollback'} "
                f"of {len(entries)} file(s) from {self.journal}")

    # -- install ---------------------------------------------------------
    def install(self, plan: Sequence[PlannedFile]) -> list[Installed]:
        for planned in plan:
            _check_destination(planned.dest)
        changed = [p for p in plan if not _same_file(p.dest, p)]
        staged: dict[str, str] = {}
        try:
            for planned in changed:
                staged[planned.dest] = fsutil.stage_file(planned.dest, planned.data, planned.spec,
                                                         suffix="new")
                checkpoint(f"staged:{planned.dest}")
        except BaseException:
            fsutil.unlink_quietly(list(staged.values()))
            raise
        records: list[Installed] = [Installed(p.dest, None, False) for p in plan if p not in changed]
        entries: list[dict[str, str | None]] = []
        for planned in changed:
            backup = self._rotate_and_link(planned.dest)
            checkpoint(f"backup:{planned.dest}")
            records.append(Installed(planned.dest, backup, True))
            entries.append({"dest": planned.dest, "staged": staged[planned.dest], "backup": backup})
        if not entries:
            return records
        self._write_journal("forward", entries)
        checkpoint("journal")
        try:
            for entry in entries:
                fsutil.commit_file(str(entry["staged"]), str(entry["dest"]))
                checkpoint(f"renamed:{entry['dest']}")
        except Exception as exc:  # live files may have changed: the caller must roll back
            fsutil.unlink_quietly([str(e["staged"]) for e in entries])  # the ones not renamed yet
            raise InterruptedInstall(records, exc) from None
        self._clear_journal()
        checkpoint("done")
        return records

    def _rotate_and_link(self, dest: str) -> str | None:
        if not os.path.lexists(dest):
            return None
        fsutil.make_private_dir(os.path.join(os.path.dirname(dest), BACKUP_DIR))
        fsutil.unlink_quietly([_backup_path(dest, self.backups)])
        for generation in range(self.backups - 1, 0, -1):
            older = _backup_path(dest, generation)
            if os.path.lexists(older):
                os.rename(older, _backup_path(dest, generation + 1))
        newest = _backup_path(dest, 1)
        os.link(dest, newest)
        fsutil.fsync_dir(os.path.dirname(newest))
        return newest

    # -- restore ---------------------------------------------------------
    def restore(self, records: Sequence[Installed]) -> None:
        entries: list[dict[str, str | None]] = [
            {"dest": r.dest, "staged": None, "backup": r.backup} for r in records if r.changed
        ]
        if not entries:
            return
        self._write_journal("back", entries)
        for entry in entries:
            self._restore_one(str(entry["dest"]), entry["backup"])
        self._clear_journal()

    @staticmethod
    def _restore_one(dest: str, backup: str | None) -> None:
        if backup is None:
            fsutil.unlink_quietly([dest])
            fsutil.fsync_dir(os.path.dirname(dest))
            return
        try:
            if os.path.samestat(os.lstat(dest), os.lstat(backup)):
                return  # never replaced (an install interrupted before its rename): rename() would be a no-op
        except FileNotFoundError:
            pass
        directory, base = os.path.split(dest)
        tmp = os.path.join(directory, f".{base}.safedeploy-restore.tmp")
        fsutil.unlink_quietly([tmp])
        os.link(backup, tmp)
        fsutil.commit_file(tmp, dest)
