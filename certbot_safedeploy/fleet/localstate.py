"""A server's own fleet files: keys, enrollments, what was installed, and the pull lock.

Layout under ``key_dir`` (0700, root):

    NAME/enrollment.json   domains and key type
    NAME/privkey.pem       the live key (0600 from creation, never leaves the host)
    NAME/privkey.next.pem  a rekey's new key, until its certificate is installed
    NAME/installed.json    serial and SHA-256 of the certificate last deployed, last probe time
    NAME/retry.json        a failed deploy of a published certificate: count and next try
    .pull.lock             flock: one pull at a time
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import stat
import time
from typing import Any, Iterator

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.system import readfile
from certbot_safedeploy.system.fsutil import FileSpec, flock_within, make_private_dir, write_file_atomic
from certbot_safedeploy.syntax.jsontext import parse_json

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}\Z")
KEY, NEXT_KEY = "privkey.pem", "privkey.next.pem"


def check_name(name: str) -> str:
    if not _NAME.match(name) or name in (".", ".."):
        raise FleetError(f"{name!r} is not a valid certificate name",
                         fix="use letters, digits and . _ @ - (like a certbot --cert-name)")
    return name


@dataclasses.dataclass(frozen=True)
class Enrollment:
    name: str
    domains: tuple[str, ...]
    key_type: str


@dataclasses.dataclass(frozen=True)
class Installed:
    serial: str
    sha256: str  # of cert + chain as published
    probed_at: int = 0  # when what is served was last checked (a deploy probes too)


@dataclasses.dataclass(frozen=True)
class Retry:
    """A published certificate whose deploy failed here: wait before reloading again."""

    serial: str
    sha256: str
    failures: int
    next_at: int


def fingerprint(cert_pem: str, chain_pem: str) -> str:
    return hashlib.sha256((cert_pem + chain_pem).encode()).hexdigest()


class LocalFleet:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def _dir(self, name: str) -> str:
        return os.path.join(self.directory, check_name(name))

    def path(self, name: str, file: str) -> str:
        return os.path.join(self._dir(name), file)

    def ensure(self, name: str) -> None:
        make_private_dir(self.directory)
        make_private_dir(self._dir(name))

    # -- keys ------------------------------------------------------------------------
    def create_key(self, name: str, file: str, pem: bytes) -> str:
        """Write a new key 0600 from creation; refuse to overwrite one."""
        self.ensure(name)
        path = self.path(name, file)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise FleetError("a key already exists here", path=path,
                             fix="use `fleet rekey` to replace a key; never delete a live key by hand") from None
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return path

    def read_key(self, name: str, file: str = KEY) -> bytes | None:
        path = self.path(name, file)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FleetError(f"cannot read the key: {exc.strerror}", path=path,
                             fix="the key must be a regular file owned by root, mode 0600") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise FleetError("the key is not a regular file", path=path,
                                 fix=f"remove {path}; rekey the name")
            if os.fstat(handle.fileno()).st_mode & 0o077:
                raise FleetError("the key is readable by group or others", path=path,
                                 fix=f"chmod 0600 {path}")
            return handle.read(1 << 16)

    def promote_next_key(self, name: str) -> None:
        """The rekeyed certificate is live: the next key becomes the key (one rename)."""
        os.rename(self.path(name, NEXT_KEY), self.path(name, KEY))
        fd = os.open(self._dir(name), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def discard_next_key(self, name: str) -> bool:
        return self.discard_key(name, NEXT_KEY)

    def discard_key(self, name: str, file: str) -> bool:
        try:
            os.unlink(self.path(name, file))
        except FileNotFoundError:
            return False
        return True

    # -- small JSON records ----------------------------------------------------------
    def _read_json(self, name: str, file: str) -> dict[str, Any] | None:
        path = self.path(name, file)
        try:
            data = parse_json(readfile.read_bytes(path, 1 << 16))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as exc:
            raise FleetError(f"unreadable local state: {exc}", path=path,
                             fix="remove it and pull again (the next pull redeploys)") from None
        if not isinstance(data, dict):
            raise FleetError("local state is not a JSON object", path=path, fix="remove it and pull again")
        return data

    def _write_json(self, name: str, file: str, data: dict[str, Any]) -> None:
        self.ensure(name)
        write_file_atomic(self.path(name, file), json.dumps(data, indent=1).encode() + b"\n",
                          FileSpec(mode=0o600))

    def enrollment(self, name: str) -> Enrollment | None:
        data = self._read_json(name, "enrollment.json")
        if data is None:
            return None
        return Enrollment(name, tuple(data["domains"]), str(data["key_type"]))

    def write_enrollment(self, e: Enrollment) -> None:
        self._write_json(e.name, "enrollment.json", {"domains": list(e.domains), "key_type": e.key_type})

    def enrolled(self) -> list[Enrollment]:
        try:
            entries = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            if _NAME.match(entry) and os.path.isfile(os.path.join(self.directory, entry, "enrollment.json")):
                e = self.enrollment(entry)
                if e is not None:
                    found.append(e)
        return found

    def installed(self, name: str) -> Installed | None:
        data = self._read_json(name, "installed.json")
        if data is None:
            return None
        try:
            return Installed(str(data["serial"]), str(data["sha256"]), int(data.get("probed_at", data.get("at", 0))))
        except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            return None  # unreadable: the next pull redeploys

    def record_installed(self, name: str, installed: Installed) -> None:
        now = int(time.time())
        self._write_json(name, "installed.json", {"serial": installed.serial, "sha256": installed.sha256,
                                                  "at": now, "probed_at": installed.probed_at or now})
        self.clear_retry(name)

    def retry(self, name: str) -> Retry | None:
        data = self._read_json(name, "retry.json")
        try:
            return None if data is None else Retry(str(data["serial"]), str(data["sha256"]),
                                                   int(data["failures"]), int(data["next_at"]))
        except (KeyError, TypeError, ValueError, OverflowError):
            return None

    def record_retry(self, name: str, retry: Retry) -> None:
        self._write_json(name, "retry.json", dataclasses.asdict(retry))

    def clear_retry(self, name: str) -> None:
        try:
            os.unlink(self.path(name, "retry.json"))
        except FileNotFoundError:
            pass

    # -- one pull at a time ----------------------------------------------------------
    @contextlib.contextmanager
    def pull_lock(self, timeout: float) -> Iterator[None]:
        """Hold an exclusive flock; a second puller waits, then sees nothing new."""
        make_private_dir(self.directory)
        path = os.path.join(self.directory, ".pull.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            if not flock_within(fd, timeout):
                raise FleetError(f"another pull has held the lock for {timeout:.0f} s", path=path,
                                 fix="look for a hung `certbot-safedeploy fleet pull`")
            yield
        finally:
            os.close(fd)
