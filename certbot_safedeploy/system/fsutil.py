"""File-system effects: the one place that writes files atomically.

Every file this package writes (deploy targets, webroot tokens, the status file,
the Prometheus textfile, journals) goes through :func:`stage_file` and
:func:`commit_file`: a temporary file created beside the destination with
``O_EXCL | O_NOFOLLOW`` and its final owner, mode and ACL *before* any content is
written, then fsync, rename, and fsync of the directory.  A crash leaves the old
file or the new one, never a mix, and a secret is never readable by anyone who
should not read it, not even for an instant.
"""

from __future__ import annotations

import dataclasses
import errno
import grp
import os
import pwd
import stat
from typing import Sequence

from certbot_safedeploy.system import acl
from certbot_safedeploy.errors import InstallError


@dataclasses.dataclass(frozen=True)
class FileSpec:
    """Owner, group, mode and extra readers of a file to write."""

    mode: int = 0o644
    uid: int = -1  # -1: leave as created (the current user)
    gid: int = -1
    acl_read_uids: tuple[int, ...] = ()




def uid_of(user: str) -> int:
    if user.isdigit():
        return int(user)
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise InstallError(f"user {user!r} does not exist",
                           fix="create the user or fix 'owner'/'acl_read' in the config") from None


def gid_of(group: str) -> int:
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise InstallError(f"group {group!r} does not exist",
                           fix="create the group or fix 'group' in the config") from None


def unsafe_ownership(path: str, *, require_root: bool) -> str:
    """Why ``path`` (or its directory) could be changed by a non-root user, or ''.

    The file must not be writable by group or others.  Its directory must not be
    writable by others (unless sticky), nor by a group unless root owns it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    for candidate in (path, directory):
        st = os.lstat(candidate)
        mode = stat.S_IMODE(st.st_mode)
        if require_root and st.st_uid != 0:
            return f"{candidate} is owned by uid {st.st_uid}, not root"
        if candidate == path:
            writable = bool(mode & 0o022)
        else:
            writable = bool(mode & 0o002 and not mode & stat.S_ISVTX) or bool(mode & 0o020 and st.st_uid != 0)
        if writable:
            return f"{candidate} is writable by group or others (mode {mode:04o})"
    return ""


def untrusted_ancestor(directory: str) -> str:
    """Why a directory path could be redirected by another user, or ''.

    Each existing component is checked with lstat: a symlink must be owned by root
    or by us, and a directory writable by others must have the sticky bit.
    """
    me = os.geteuid()
    current = "/"
    for part in [p for p in directory.split("/") if p]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return ""  # the rest does not exist yet; staging will fail with a clear error
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in (0, me):
            return f"{current} is a symlink owned by uid {st.st_uid}"
        if stat.S_ISDIR(st.st_mode) and st.st_uid not in (0, me):
            return f"{current} is a directory owned by uid {st.st_uid}"
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
            return f"{current} is world-writable"
    return ""


def read_trusted_text(path: str, limit: int = 1 << 20) -> str:
    """Read a small text file without following a final symlink."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InstallError("file is larger than 1 MiB", path=path)
    return data.decode("utf-8")


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply_acl(fd: int, path: str, spec: FileSpec) -> None:
    if not spec.acl_read_uids:
        return
    try:
        os.setxattr(fd, acl.XATTR_NAME, acl.encode_access_acl(spec.mode, spec.acl_read_uids))
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
            raise InstallError("the file system does not support POSIX ACLs", path=path,
                               fix="mount it with ACL support or drop acl_read") from None
        raise


def stage_file(dest: str, data: bytes, spec: FileSpec, *, suffix: str = "") -> str:
    """Write ``data`` to a new temporary file beside ``dest``; return its path.

    The file is created with at most 0600 (or the final mode if tighter), given
    its owner, group, final mode and ACL, and only then filled and fsynced.
    """
    directory, base = os.path.split(dest)
    name = f".{base}.safedeploy-{suffix or os.urandom(6).hex()}.tmp"
    tmp = os.path.join(directory, name)
    if suffix:
        try:
            os.unlink(tmp)  # a stale file from an interrupted run
        except FileNotFoundError:
            pass
    create_mode = spec.mode & 0o600
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     create_mode)
    except OSError as exc:
        raise InstallError(f"cannot create a file in {directory}: {exc.strerror}", path=dest,
                           fix=f"create {directory} (owned by root) or fix the path") from None
    try:
        if spec.uid != -1 or spec.gid != -1:
            os.fchown(fd, spec.uid, spec.gid)
        os.fchmod(fd, spec.mode)
        _apply_acl(fd, dest, spec)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp)
        raise
    os.close(fd)
    return tmp


def commit_file(tmp: str, dest: str) -> None:
    """Atomically replace ``dest`` with ``tmp`` and make the rename durable."""
    os.rename(tmp, dest)
    fsync_dir(os.path.dirname(dest) or ".")


def write_file_atomic(dest: str, data: bytes, spec: FileSpec = FileSpec()) -> None:
    """Stage and commit in one step (tokens, status files, textfiles)."""
    commit_file(stage_file(dest, data, spec), dest)


def flock_within(fd: int, timeout: float) -> bool:
    """Take an exclusive ``flock`` on ``fd``, waiting up to ``timeout`` seconds; False if still busy."""
    import fcntl
    import time

    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def make_private_dir(path: str, mode: int = 0o700) -> None:
    """Create ``path`` (and parents) if missing; refuse a symlink in its place."""
    os.makedirs(path, mode=mode, exist_ok=True)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise InstallError("expected a directory, found something else (a symlink?)", path=path,
                           fix=f"remove {path}; safedeploy will recreate it")


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def unlink_quietly(paths: Sequence[str]) -> None:
    for path in paths:
        _unlink_quietly(path)
