"""Move the test process into a private network namespace (Linux, root).

Primary and secondary nameservers need distinct loopback addresses on the same
port (NS records carry no port).  named binds only to addresses an interface
carries, so the tests add 127.0.0.2 to ``lo``: inside a namespace of their own,
which touches nothing on the host and keeps all traffic on loopback.
"""

from __future__ import annotations

import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
EXTRA_ADDRESSES = ("127.0.0.2/8", "127.0.0.3/8")
_entered = False


def enter_private_netns() -> None:
    global _entered
    if _entered or os.environ.get("SAFEDEPLOY_IN_NETNS") == "1":
        _entered = True
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise RuntimeError(f"unshare(CLONE_NEWNET) failed: {os.strerror(errno)}; "
                           "the integration tests must run as root (see README.rst)")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for address in EXTRA_ADDRESSES:
        subprocess.run(["ip", "addr", "add", address, "dev", "lo"], check=True)
    os.environ["SAFEDEPLOY_IN_NETNS"] = "1"
    _entered = True
