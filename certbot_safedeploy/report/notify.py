"""Loud failures: syslog always, plus mail and a command from the ``[notify]`` table.

    [notify]
    mail = { to = ["root@example.com"], from = "certbot@host", smtp = "localhost:25" }
    # or: mail = { to = [...], from = "...", sendmail = "/usr/sbin/sendmail" }
    command = ["/usr/local/bin/alert"]     # gets the JSON report on stdin
    syslog_facility = "daemon"             # default

A notifier that fails is itself logged (stderr and syslog) and never hides the
original failure or changes the exit code.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time
from typing import Any, Mapping, Sequence

from certbot_safedeploy.system import syslogger
from certbot_safedeploy.syntax.hostport import split_host_port

FACILITY_NAMES = ("daemon", "user", "auth", *(f"local{i}" for i in range(8)))


@dataclasses.dataclass(frozen=True)
class MailSettings:
    """``mail = { to, from, smtp | sendmail }``: exactly one of ``smtp`` and ``sendmail``."""

    to: tuple[str, ...]
    sender: str | None = None  # the table's ``from``
    smtp: str | None = None  # host:port
    sendmail: str | None = None  # absolute path


@dataclasses.dataclass(frozen=True)
class NotifySettings:
    """The channels of the ``[notify]`` table; syslog is always one of them."""

    mail: MailSettings | None = None
    command: tuple[str, ...] = ()
    syslog_facility: str = "daemon"


def _mail(mail: MailSettings, report: Mapping[str, Any]) -> None:
    import email.message
    import smtplib

    msg = email.message.EmailMessage()
    msg["Subject"] = f"[certbot-safedeploy] {report['step']} failed for {report['subject']} on {report['host']}"
    msg["From"] = mail.sender or f"root@{report['host']}"
    msg["To"] = ", ".join(mail.to)
    msg.set_content(f"{report['message']}\n\n{json.dumps(report, indent=2)}\n")
    if mail.sendmail:
        subprocess.run([mail.sendmail, "-t", "-i"], input=msg.as_bytes(), check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return
    host, port = split_host_port(mail.smtp or "", 25)
    with smtplib.SMTP(host, port or 25, timeout=30) as smtp:
        smtp.send_message(msg)


def _command(argv: Sequence[str], report: Mapping[str, Any]) -> None:
    subprocess.run(list(argv), input=json.dumps(report).encode(), check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def send(report: Mapping[str, Any], settings: NotifySettings | None) -> list[str]:
    """Deliver ``report`` on every channel; return the problems (never raise)."""
    settings = settings or NotifySettings()
    facility = settings.syslog_facility
    problems: list[str] = []
    if not syslogger.log("err", f"{report['step']} failed for {report['subject']}: {report['message']}", facility):
        problems.append("syslog: no listener on /dev/log")
    for name in ("mail", "command"):
        if not getattr(settings, name):
            continue
        try:
            if name == "mail" and settings.mail:
                _mail(settings.mail, report)
            elif name == "command":
                _command(settings.command, report)
        except (OSError, subprocess.SubprocessError) as exc:  # smtplib.SMTPException is an OSError
            problem = f"notify {name} failed: {type(exc).__name__}: {exc}"
            problems.append(problem)
            sys.stderr.write(f"safedeploy: {problem}\n")
            syslogger.log("warning", problem, facility)
    return problems


def make_report(step: str, subject: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"step": step, "subject": subject, "message": message, "host": socket.getfqdn(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra}


def notify_failure(step: str, subject: str, message: str, *,
                   settings: NotifySettings | None = None, **extra: Any) -> list[str]:
    """Report a failure through syslog and the channels of ``settings`` (the config's [notify]).

    ``settings`` is None when the config itself could not be read: syslog alone then."""
    return send(make_report(step, subject, message, **extra), settings)
