"""The boot step's systemd unit: ``recover`` before any service reads the files.

An install killed between two renames (power loss, OOM kill) leaves a journal
(:mod:`.install`).  The next deploy finishes it, but services start at boot long
before that, and a web server reading a key from one generation beside a
certificate from another does not start at all.  This oneshot unit runs
``certbot-safedeploy recover`` right after the local file systems are mounted
and before ``sysinit.target``: every service with default dependencies (nginx,
Apache, HAProxy, Postfix, Dovecot, slapd, their sockets) starts after it.

``systemd/certbot-safedeploy-recover.service`` holds the text rendered with the
defaults; ``certbot-safedeploy recover --print-unit`` renders it for this
installation (interpreter and config path).
"""

from __future__ import annotations

import shlex

UNIT_NAME = "certbot-safedeploy-recover.service"
DEFAULT_EXEC = "/usr/local/bin/certbot-safedeploy"
DEFAULT_CONFIG = "/etc/letsencrypt/safedeploy.toml"
# named as well as implied by sysinit.target: a service that sets DefaultDependencies=no still waits
SERVICES = ("nginx.service", "apache2.service", "httpd.service", "haproxy.service", "postfix.service",
            "dovecot.service", "dovecot.socket", "slapd.service", "exim4.service", "lighttpd.service")

TEMPLATE = """\
# Boot: finish or undo a certificate install that a crash interrupted, before any service starts.
# Install: certbot-safedeploy recover --print-unit > /etc/systemd/system/certbot-safedeploy-recover.service
#          systemctl daemon-reload && systemctl enable certbot-safedeploy-recover.service
[Unit]
Description=certbot-safedeploy: complete or undo an interrupted certificate install
Documentation=https://github.com/certbot-safedeploy/certbot-safedeploy#boot-recovery
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target shutdown.target {services}
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
# Exit 0: nothing to do, or every interrupted install was completed or undone; 1: a journal
# could not be applied (the line names it and the fix). Services start either way.
ExecStart={exec} recover --config {config}
TimeoutStartSec=5min
SyslogIdentifier=certbot-safedeploy

[Install]
WantedBy=sysinit.target
"""


def render(executable: str = DEFAULT_EXEC, config: str = DEFAULT_CONFIG) -> str:
    return (TEMPLATE.replace("{services}", " ".join(SERVICES)).replace("{exec}", executable)
            .replace("{config}", shlex.quote(config)))
