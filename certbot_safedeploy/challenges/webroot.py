"""Webroot token files for http-01 (RFC 8555 §8.3).

``<webroot>/.well-known/acme-challenge/<token>`` is written atomically through
:func:`certbot_safedeploy.system.fsutil.write_file_atomic`, 0644, directories 0755, owner
and group copied from the webroot so the web server can read them.  Only what
was created is removed; a symlink planted by the web server's user is refused.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from typing import Sequence

from certbot_safedeploy.system import fsutil
from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.syntax.acme_values import check_token

CHALLENGE_DIR = (".well-known", "acme-challenge")


@dataclasses.dataclass(frozen=True)
class CreatedToken:
    path: str
    created_dirs: tuple[str, ...]  # innermost last


def _ensure_dir(path: str, uid: int, gid: int) -> bool:
    """Create ``path`` 0755 if missing; return True when we created it."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in (0, os.geteuid()):
            raise ChallengeError("is a symlink owned by another user; refusing to follow it", path=path,
                                 fix=f"remove it: rm {path}") from None
        if not os.path.isdir(path):
            raise ChallengeError("exists but is not a directory", path=path, fix=f"remove {path}") from None
        return False
    os.chown(path, uid, gid)
    os.chmod(path, 0o755)
    return True


def write_token(webroot: str, token: str, content: str) -> CreatedToken:
    check_token(token)
    try:
        st = os.stat(webroot)
    except FileNotFoundError:
        raise ChallengeError("webroot does not exist", path=webroot,
                             fix="create it or fix --safedeploy-webroot / webroot_map") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ChallengeError("webroot is not a directory", path=webroot)
    created: list[str] = []
    directory = webroot
    for part in CHALLENGE_DIR:
        directory = os.path.join(directory, part)
        if _ensure_dir(directory, st.st_uid, st.st_gid):
            created.append(directory)
    path = os.path.join(directory, token)
    fsutil.write_file_atomic(path, content.encode("ascii"),
                             fsutil.FileSpec(mode=0o644, uid=st.st_uid, gid=st.st_gid))
    return CreatedToken(path, tuple(created))


def remove_tokens(created: Sequence[CreatedToken]) -> list[str]:
    """Remove the token files, then the directories we created, deepest first.

    Several names may share one webroot: the first token created the directories,
    the others only files in them, so every file goes before any directory.
    Returns the created directories still present (not empty: the admin's files,
    or tokens of another run that will remove them).
    """
    fsutil.unlink_quietly([c.path for c in created])
    dirs = sorted({d for c in created for d in c.created_dirs}, key=lambda d: d.count(os.sep), reverse=True)
    left = []
    for directory in dirs:
        try:
            os.rmdir(directory)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(directory)  # not empty: another challenge or the admin's own files
    return left
