"""Log to syslog/journal: RFC 3164 datagrams on ``/dev/log``, identifier ``certbot-safedeploy``.

Only the ``socket`` module is needed, so the deploy hook can log every run
without importing ``logging.handlers`` or ``smtplib``.  journald and rsyslog both
read this socket.  ``SAFEDEPLOY_SYSLOG_SOCKET`` points elsewhere (tests).
"""

from __future__ import annotations

import os
import socket

IDENT = "certbot-safedeploy"
FACILITIES = {"daemon": 3, "user": 1, "auth": 4, **{f"local{i}": 16 + i for i in range(8)}}
LEVELS = {"err": 3, "warning": 4, "notice": 5, "info": 6}


def log(level: str, message: str, facility: str = "daemon") -> bool:
    """Send one line; False (never an exception) when no syslog listens."""
    address = os.environ.get("SAFEDEPLOY_SYSLOG_SOCKET", "/dev/log")
    priority = FACILITIES.get(facility, 3) * 8 + LEVELS[level]
    line = " ".join(message.split())[:4000]  # one line; journald truncates far later
    payload = f"<{priority}>{IDENT}[{os.getpid()}]: {line}".encode("utf-8", "replace")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.send(payload)
    except OSError:
        return False
    return True
