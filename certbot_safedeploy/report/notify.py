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

import email.message
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
from typing import Any, Mapping

from certbot_safedeploy.system import syslogger
from certbot_safedeploy.system.fsutil import split_host_port

def _mail(mail: Mapping[str, Any], report: Mapping[str, Any]) -> None:
    msg = email.message.EmailMessage()
    msg["Subject"] = f"[certbot-safedeploy] {report['step']} failed for {report['subject']} on {report['host']}"
    msg["From"] = mail.get("from") or f"root@{report['host']}"
    msg["To"] = ", ".join(mail["to"])
    msg.set_content(f"{report['message']}\n\n{json.dumps(report, indent=2)}\n")
    if "sendmail" in mail:
        subprocess.run([mail["sendmail"], "-t", "-i"], input=msg.as_bytes(), check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return
    host, port = split_host_port(mail["smtp"], 25)
    with smtplib.SMTP(host, port or 25, timeout=30) as smtp:
        smtp.send_message(msg)


def _command(argv: list[str], report: Mapping[str, Any]) -> None:
    subprocess.run(argv, input=json.dumps(report).encode(), check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def send(report: Mapping[str, Any], table: Mapping[str, Any] | None) -> list[str]:
    """Deliver ``report`` on every channel; return the problems (never raise)."""
    table = table or {}
    facility = str(table.get("syslog_facility", "daemon"))
    problems: list[str] = []
    if not syslogger.log("err", f"{report['step']} failed for {report['subject']}: {report['message']}", facility):
        problems.append("syslog: no listener on /dev/log")
    for name in ("mail", "command"):
        setting = table.get(name)
        if not setting:
            continue
        try:
            if name == "mail":
                _mail(setting, report)
            else:
                _command(list(setting), report)
        except (OSError, smtplib.SMTPException, subprocess.SubprocessError) as exc:
            problem = f"notify {name} failed: {type(exc).__name__}: {exc}"
            problems.append(problem)
            sys.stderr.write(f"safedeploy: {problem}\n")
            syslogger.log("warning", problem, facility)
    return problems


def make_report(step: str, subject: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"step": step, "subject": subject, "message": message, "host": socket.getfqdn(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra}


def notify_failure(step: str, subject: str, message: str, config_path: str | None, *,
                   table: Mapping[str, Any] | None = None, **extra: Any) -> list[str]:
    """Report a failure through ``table`` or, if not given, the [notify] table of ``config_path``."""
    if table is None and config_path and os.path.exists(config_path):
        try:
            from certbot_safedeploy.config.load import load_config

            table = load_config(config_path).raw_sections.get("notify")
        except Exception as exc:  # the config itself may be what failed
            sys.stderr.write(f"safedeploy: cannot read [notify] from {config_path}: {exc}\n")
    return send(make_report(step, subject, message, **extra), table)

