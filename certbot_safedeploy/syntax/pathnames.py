"""Path names from configuration and options: what the kernel will accept (pure).

Linux refuses a path of 4096 bytes or more (``PATH_MAX``, counting the NUL) and a
file name of more than 255 bytes (``NAME_MAX`` of ext4, XFS, btrfs and tmpfs) with
``ENAMETOOLONG``, and no path may hold a NUL.  A path in the config that breaks these
rules can never work, so it is refused when the config is read, with the key named,
rather than when a deploy or the boot step first touches it.
"""

from __future__ import annotations

import os

PATH_MAX = 4096  # bytes, with the terminating NUL (linux/limits.h)
NAME_MAX = 255  # bytes per component


def path_problem(text: str, *, normalized: bool = True) -> str | None:
    """Why ``text`` is not a usable absolute path (normalized, unless ``normalized`` is False),
    or None when it is."""
    if not text or "\x00" in text:
        return "is empty or holds a NUL"
    if normalized and (not os.path.isabs(text) or os.path.normpath(text) != text.rstrip("/")
                       or ".." in text.split("/")):
        return "is not a normalized absolute path"
    if not os.path.isabs(text):
        return "must be an absolute path"
    size = len(text.encode("utf-8", "surrogateescape"))
    if size >= PATH_MAX:
        return f"is {size} bytes long: a path has at most {PATH_MAX - 1} bytes (PATH_MAX)"
    for part in text.split("/"):
        length = len(part.encode("utf-8", "surrogateescape"))
        if length > NAME_MAX:
            return f"has a file name of {length} bytes ({part[:16]}...): at most {NAME_MAX} bytes (NAME_MAX)"
    return None


def shown_path(text: str) -> str:
    """A path for an error line: quoted, and cut short when it is long (a refused path may be 4 KiB)."""
    return repr(text if len(text) <= 80 else text[:60] + "...")


def path_fix(problem: str) -> str:
    """The fix for a :func:`path_problem` answer."""
    if problem.endswith("(NAME_MAX)") or problem.endswith("(PATH_MAX)"):
        return f"shorten the path: at most {NAME_MAX} bytes a file name, {PATH_MAX - 1} bytes in all"
    return "write the full path, e.g. /etc/nginx/tls/site.crt"
