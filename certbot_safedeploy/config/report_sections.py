"""The ``[notify]`` and ``[status]`` tables, parsed into the settings the report modules take.

    [notify]
    mail = { to = ["root@example.com"], from = "certbot@host", smtp = "localhost:25" }
    # or: mail = { to = [...], from = "...", sendmail = "/usr/sbin/sendmail" }
    command = ["/usr/local/bin/alert"]     # gets the JSON report on stdin
    syslog_facility = "daemon"             # default

    [status]
    file = "/var/lib/certbot-safedeploy/status.json"      # default: state_dir/status.json
    prometheus = "/var/lib/prometheus/node-exporter/certbot_safedeploy.prom"  # optional

Pure: tables in, :class:`~certbot_safedeploy.report.notify.NotifySettings` and
:class:`~certbot_safedeploy.report.status.StatusSettings` out.
"""

from __future__ import annotations

import os
from typing import Any

from certbot_safedeploy.config.reader import TableReader
from certbot_safedeploy.report.notify import FACILITY_NAMES, MailSettings, NotifySettings
from certbot_safedeploy.report.status import StatusSettings
from certbot_safedeploy.syntax.hostport import split_host_port

NOTIFY_KEYS = ("mail", "command", "syslog_facility")
MAIL_KEYS = ("to", "from", "smtp", "sendmail")
STATUS_KEYS = ("file", "prometheus")


def parse_notify(r: TableReader, value: Any) -> NotifySettings:
    t = r.table(value, ["notify"], NOTIFY_KEYS)
    mail = None
    if "mail" in t:
        m = r.table(t["mail"], ["notify", "mail"], MAIL_KEYS)
        to = r.strings(m.get("to"), ["notify", "mail", "to"], empty=False)
        if ("smtp" in m) == ("sendmail" in m):
            raise r.fail(["notify", "mail"], "needs exactly one of smtp = \"host:port\" or sendmail = \"/path\"")
        smtp = sendmail = None
        if "smtp" in m:
            smtp = r.string(m["smtp"], ["notify", "mail", "smtp"])
            if split_host_port(smtp, 25)[1] is None:
                raise r.fail(["notify", "mail", "smtp"], "is not host:port")
        if "sendmail" in m:
            sendmail = r.abspath(m["sendmail"], ["notify", "mail", "sendmail"])
        sender = r.string(m["from"], ["notify", "mail", "from"]) if "from" in m else None
        mail = MailSettings(to, sender, smtp, sendmail)
    command = r.argv(t["command"], ["notify", "command"]) if "command" in t else ()
    facility = t.get("syslog_facility", "daemon")
    if facility not in FACILITY_NAMES:
        raise r.fail(["notify", "syslog_facility"], f"must be one of {', '.join(FACILITY_NAMES)}")
    return NotifySettings(mail, command, str(facility))


def parse_status(r: TableReader, value: Any, state_dir: str) -> StatusSettings:
    t = r.table(value, ["status"], STATUS_KEYS)
    paths = {k: r.abspath(v, ["status", k]) for k, v in t.items()}
    return StatusSettings(paths.get("file", os.path.join(state_dir, "status.json")), paths.get("prometheus"))
