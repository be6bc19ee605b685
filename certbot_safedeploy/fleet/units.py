"""systemd units for fleet mode: ``fleet units`` writes them; ``systemd/`` holds the same text.

Rendered with the interpreter and config path of this installation, so that the
units run exactly the certbot-safedeploy that wrote them.
"""

from __future__ import annotations

import os
import shlex
import sys

from certbot_safedeploy.system.fsutil import FileSpec, write_file_atomic

DEFAULT_EXEC = "/usr/local/bin/certbot-safedeploy"
DEFAULT_CONFIG = "/etc/letsencrypt/safedeploy.toml"
ROLES = ("pull", "renew")

TEMPLATES = {
    'certbot-safedeploy-fleet-pull.service': """\
# Server side: install the newest certificate of every enrolled name.
# Install: cp certbot-safedeploy-fleet-pull.{service,timer} /etc/systemd/system/
#          systemctl daemon-reload && systemctl enable --now certbot-safedeploy-fleet-pull.timer
[Unit]
Description=certbot-safedeploy fleet pull (verify, install, reload, probe, report)
Documentation=https://github.com/certbot-safedeploy/certbot-safedeploy#fleet
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# Exit 0 deployed or nothing new; 1 refused or store unreachable; 3 rolled back; 4 rollback failed.
ExecStart={exec} fleet pull --config {config}
# A hung store must not stop the next run from starting.
TimeoutStartSec=30min
Nice=5
IOSchedulingClass=best-effort
PrivateTmp=yes
ProtectHome=read-only
NoNewPrivileges=yes
SyslogIdentifier=certbot-safedeploy
""",
    'certbot-safedeploy-fleet-pull.timer': """\
[Unit]
Description=Pull fleet certificates twice an hour

[Timer]
OnBootSec=2min
OnUnitActiveSec=30min
RandomizedDelaySec=5min
Persistent=true

[Install]
WantedBy=timers.target
""",
    'certbot-safedeploy-fleet-renew.service': """\
# Central host: issue due names with certbot --csr and publish them.
# Install: cp certbot-safedeploy-fleet-renew.{service,timer} /etc/systemd/system/
#          systemctl daemon-reload && systemctl enable --now certbot-safedeploy-fleet-renew.timer
# Do not also run certbot.timer for the same names: fleet renew is the scheduler here.
[Unit]
Description=certbot-safedeploy fleet renew (certbot certonly --csr for due names)
Documentation=https://github.com/certbot-safedeploy/certbot-safedeploy#fleet
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# Exit 0 nothing failed; 1 a name failed, is backing off, or was deferred by the order budget.
ExecStart={exec} fleet renew --config {config}
TimeoutStartSec=4h
PrivateTmp=yes
ProtectHome=read-only
SyslogIdentifier=certbot-safedeploy
""",
    'certbot-safedeploy-fleet-renew.timer': """\
[Unit]
Description=Renew due fleet certificates every 6 hours

[Timer]
OnCalendar=*-*-* 00/6:17:00
RandomizedDelaySec=30min
Persistent=true

[Install]
WantedBy=timers.target
""",
}


def render(name: str, executable: str = DEFAULT_EXEC, config: str = DEFAULT_CONFIG) -> str:
    return TEMPLATES[name].replace("{exec}", executable).replace("{config}", shlex.quote(config))


def this_executable() -> str:
    return f"{shlex.quote(sys.executable)} -m certbot_safedeploy"


def write_units(dest: str, roles: tuple[str, ...], config: str) -> list[str]:
    """Write the units of ``roles`` into ``dest``; return the paths written."""
    written = []
    for name in TEMPLATES:
        if name.split("-")[-1].split(".")[0] in roles:
            path = os.path.join(dest, name)
            write_file_atomic(path, render(name, this_executable(), config).encode(), FileSpec(mode=0o644))
            written.append(path)
    return written
