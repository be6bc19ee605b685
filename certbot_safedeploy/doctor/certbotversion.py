"""Which certbot will run the next ``certbot renew`` (I/O: reads package metadata, never imports certbot).

Looked up in the order a scheduler finds it: the snap (``/snap/certbot/current``),
the distribution's package (``dist-packages``/``site-packages`` metadata under the
system root), then a certbot installed for this Python (``importlib.metadata``,
only for the real root).  None when no certbot is found.
"""

from __future__ import annotations

import glob
import os
import re

_PACKAGE_GLOBS = ("usr/lib/python3/dist-packages/certbot-*.*-info",
                  "usr/lib/python3*/site-packages/certbot-*.*-info",
                  "usr/lib64/python3*/site-packages/certbot-*.*-info",
                  "usr/local/lib/python3*/dist-packages/certbot-*.*-info",
                  "opt/certbot/lib/python3*/site-packages/certbot-*.*-info")


def _snap(root: str) -> str | None:
    try:
        with open(os.path.join(root, "snap/certbot/current/meta/snap.yaml"), encoding="utf-8") as handle:
            match = re.search(r"^version:\s*['\"]?([\w.]+)", handle.read(65536), re.M)
    except OSError:
        return None
    return match.group(1) if match else None


def installed_certbot(system_root: str = "/") -> tuple[str, str] | None:
    """(version, where it was found) of the certbot the scheduler runs."""
    snap = _snap(system_root)
    if snap:
        return snap, "snap certbot"
    for pattern in _PACKAGE_GLOBS:
        for path in sorted(glob.glob(os.path.join(system_root, pattern)), reverse=True):
            match = re.match(r"certbot-(\d+(?:\.\d+)*)", os.path.basename(path))
            if match:
                return match.group(1), path
    if os.path.realpath(system_root) == "/":
        try:
            from importlib.metadata import PackageNotFoundError, version

            return version("certbot"), "certbot for this Python"
        except (ImportError, PackageNotFoundError):
            return None
    return None
