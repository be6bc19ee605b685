"""The systemd timer and service that run ``certbot-safedeploy ari`` a few times a day.

Shipped in ``systemd/`` (and the Debian package), written by ``install --ari``:
never enabled by either; the administrator enables the timer.  The service reads
``/etc/sysconfig/certbot`` (RHEL family) and ``/etc/default/certbot`` when present, so
the ``http_proxy``/``https_proxy`` a certbot timer has apply to ARI requests too.
"""

from __future__ import annotations

import os
import shlex
import sys

from certbot_safedeploy.system.fsutil import FileSpec, make_private_dir, read_trusted_text, write_file_atomic

DEFAULT_EXEC = "/usr/local/bin/certbot-safedeploy"
DEFAULT_CONFIG = "/etc/letsencrypt/safedeploy.toml"
SYSTEMD_DIR = "/etc/systemd/system"
TIMER = "certbot-safedeploy-ari.timer"
ENABLE = f"systemctl daemon-reload && systemctl enable --now {TIMER}"

TEMPLATES = {
    "certbot-safedeploy-ari.service": """\
# Renew certificates when their CA's renewal information (RFC 9773 ARI) says so:
# certbot renew --cert-name NAME --force-renewal, so that certbot's options and the deploy gate run.
# Enable: systemctl daemon-reload && systemctl enable --now certbot-safedeploy-ari.timer
[Unit]
Description=certbot-safedeploy ari (renew when the CA's renewal window says so)
Documentation=https://github.com/certbot-safedeploy/certbot-safedeploy#ari
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# the proxy settings (http_proxy, https_proxy, no_proxy) certbot's own timer reads, where present
EnvironmentFile=-/etc/sysconfig/certbot
EnvironmentFile=-/etc/default/certbot
# Exit 0 nothing failed; 1 a check or a renewal failed (one line each in the journal).
# --interval: the timer's period plus its random delay (RFC 9773 4.2: a time before the next run is acted on now)
ExecStart={exec} ari --config-dir /etc/letsencrypt --config {config} --interval 25200
TimeoutStartSec=2h
PrivateTmp=yes
SyslogIdentifier=certbot-safedeploy
""",
    TIMER: "[Unit]\nDescription=Check the CA's renewal information (ARI) four times a day\n\n"
           "[Timer]\nOnCalendar=*-*-* 01,07,13,19:23:00\nRandomizedDelaySec=1h\nPersistent=true\n\n"
           "[Install]\nWantedBy=timers.target\n",
}


def render(name: str, executable: str = DEFAULT_EXEC, config: str = DEFAULT_CONFIG) -> str:
    """The unit ``name`` running ``executable`` with ``config``."""
    text = TEMPLATES[name]
    for key, value in (("{exec}", executable), ("{config}", shlex.quote(config))):
        text = text.replace(key, value)
    return text


def write_units(dest: str, config: str, executable: str | None = None) -> list[str]:
    """Write (or leave unchanged) both units in ``dest``; one line per unit.  Enables nothing."""
    executable = executable or f"{shlex.quote(sys.executable)} -m certbot_safedeploy"
    lines = []
    make_private_dir(dest, mode=0o755)
    for name in TEMPLATES:
        path = os.path.join(dest, name)
        text = render(name, executable, config)
        try:
            if read_trusted_text(path) == text:
                lines.append(f"unchanged {path}")
                continue
        except (OSError, ValueError):
            pass
        write_file_atomic(path, text.encode(), FileSpec(mode=0o644))
        lines.append(f"installed {path}")
    lines.append(f"the ARI timer is not enabled; to enable it: {ENABLE}")
    return lines
