"""One deploy at a time: an exclusive ``flock`` on ``<state_dir>/deploy.lock``.

The renewal hook, a manual ``deploy``, a fleet pull and the boot-time
``recover`` all install into the same destinations; interleaved, one could
restore backups while the other renames new files in, and a service could end
up with a key from one generation beside a certificate from another.  Every
one of them holds this lock from before the first change (journal recovery)
until after the last probe or rollback.  A second deploy waits up to a bounded
time, then refuses with one line naming the holder; nothing was touched.

``flock`` locks belong to the open file description: the kernel drops them
when the holder exits, even by SIGKILL, so a crash never leaves a stale lock.
The holder writes its pid and what it does into the file for the message.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

from certbot_safedeploy.system import fsutil
from certbot_safedeploy.errors import SafeDeployError

LOCK_NAME = "deploy.lock"
DEFAULT_TIMEOUT = 300.0  # the longest probe timeout a target may set
TIMEOUT_ENV = "SAFEDEPLOY_LOCK_TIMEOUT"


class LockError(SafeDeployError):
    """The lock could not be taken: another deploy kept it, or its file is unusable."""


def default_timeout() -> float:
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if 0 <= value <= 3600 else DEFAULT_TIMEOUT


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return text.splitlines()[0] if text else ""


@contextlib.contextmanager
def deploy_lock(state_dir: str, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the state directory's deploy lock while the block runs.

    Raises :class:`LockError` after ``timeout`` seconds (default
    ``$SAFEDEPLOY_LOCK_TIMEOUT`` or 300) if another process keeps it.
    """
    wait = default_timeout() if timeout is None else timeout
    path = os.path.join(state_dir, LOCK_NAME)
    try:
        fsutil.make_private_dir(state_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise LockError(f"cannot open the deploy lock: {exc.strerror}", path=path,
                              fix=f"make {state_dir} a directory writable by root only") from None
    try:
        if not fsutil.flock_within(fd, wait):
            holder = _holder(fd) or "another process"
            raise LockError(f"another deploy ({holder}) still holds the deploy lock after {wait:.0f} s; "
                            "nothing was touched", path=path,
                            fix="let it finish (is a reload or probe hanging?), then run the deploy again")
        note = f"pid {os.getpid()}, {what}, since {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        yield
    finally:
        os.close(fd)  # releases the lock
