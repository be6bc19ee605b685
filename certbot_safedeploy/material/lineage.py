"""Read a certbot ``live/<name>/`` directory into memory.

certbot's ``live/`` files are symlinks into ``archive/``; they are followed, and a
broken link is reported by name.  This module only reads; all checks are in
:mod:`certbot_safedeploy.verify.lineagecheck`.
"""

from __future__ import annotations

import errno
import os

from certbot_safedeploy.system import readfile

from certbot_safedeploy.verify.lineagecheck import LINEAGE_FILES, LineageData

MAX_FILE_BYTES = 1 << 20  # a lineage file larger than 1 MiB is not a certificate


def read_lineage(directory: str) -> LineageData:
    contents: dict[str, bytes] = {}
    unreadable: dict[str, str] = {}
    if not os.path.isdir(directory):
        return LineageData(directory, {}, {".": "lineage directory does not exist"})
    for name in LINEAGE_FILES:
        path = os.path.join(directory, name)
        try:
            data = readfile.read_bytes(path, MAX_FILE_BYTES)
        except FileNotFoundError:
            if os.path.islink(path):
                unreadable[name] = f"broken symlink to {os.readlink(path)}"
            else:
                unreadable[name] = "file is missing"
            continue
        except OSError as exc:
            unreadable[name] = f"cannot read: {exc.strerror}" + (": not a certificate" if exc.errno == errno.EFBIG else "")
            continue
        contents[name] = data
    return LineageData(directory, contents, unreadable)
