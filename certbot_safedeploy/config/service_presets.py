"""Service presets: each service's own check, reload and probe (pure: no I/O).

A target written as ``service = "nginx"`` gets the commands Debian's nginx
package uses; ``service = { name = "nginx", config = "/srv/nginx.conf" }``
names an instance run from its own configuration outside systemd, so the
commands drive that instance directly (``nginx -c FILE -s reload``).  Keys
written on the target (``check``, ``reload``, ``probe``) replace the preset's.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Mapping

from certbot_safedeploy.errors import SafeDeployError

PartFiles = tuple[tuple[str, tuple[str, ...]], ...]  # (file name, lineage parts)
SEPARATE: PartFiles = (("fullchain.pem", ("fullchain",)), ("privkey.pem", ("privkey",)))
COMBINED: PartFiles = (("combined.pem", ("fullchain", "privkey")),)

# A pid-file reload without a shell-injected path: the path is "$1".
_SIGNAL = 'kill -{sig} "$(head -n 1 -- "$1")"'


@dataclasses.dataclass(frozen=True)
class Instance:
    """Where a service's configuration lives (``config``) and, where a reload
    signals its process, the pid file; both None for the systemd-managed default."""

    config: str | None = None
    pidfile: str | None = None


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    default_config: str  # relative to the system root
    port: int
    starttls: str | None
    files: PartFiles
    key_reader: str | None  # account that must read the key (acl_read), if not root
    check: Callable[[Instance], tuple[str, ...]]
    reload: Callable[[Instance], tuple[str, ...] | None]  # None: this instance needs an explicit reload
    uses_pidfile: bool = False

    def config_path(self, instance: Instance, system_root: str = "/") -> str:
        return instance.config or os.path.join(system_root, self.default_config)

    def tls_dir(self, instance: Instance, lineage: str, system_root: str = "/") -> str:
        """Where this service's copies of a lineage belong: beside its configuration."""
        config = self.config_path(instance, system_root).rstrip("/")
        if self.name == "postgresql" and not config.endswith(".conf"):
            # Debian's /etc/postgresql belongs to postgres, who could redirect files put there
            return os.path.join(system_root, "etc/postgresql-common/tls", lineage)
        base = config if self.name == "postfix" else os.path.dirname(config)  # postfix names a directory
        return os.path.join(base, "tls", lineage)

    def probe_table(self, servername: str) -> dict[str, object]:
        table: dict[str, object] = {"connect": f"127.0.0.1:{self.port}", "servername": servername}
        if self.starttls:
            table["starttls"] = self.starttls
        return table


def _systemctl(verb: str, unit: str) -> tuple[str, ...]:
    return ("systemctl", verb, unit)


def _signal(sig: str, name: str) -> Callable[[Instance], tuple[str, ...] | None]:
    def reload(i: Instance) -> tuple[str, ...] | None:
        if i.config is None:
            return _systemctl("reload", name)
        if i.pidfile is None:
            return None
        return ("/bin/sh", "-c", _SIGNAL.format(sig=sig), f"{name}-reload", i.pidfile)
    return reload


def _slapd_check(i: Instance) -> tuple[str, ...]:
    config = i.config or "/etc/ldap/slapd.d"
    return ("slaptest", "-u", "-f" if config.endswith(".conf") else "-F", config)


PRESETS: Mapping[str, Preset] = {p.name: p for p in (
    Preset("nginx", "etc/nginx/nginx.conf", 443, None, SEPARATE, None,
           check=lambda i: ("nginx", "-t", "-q") + (("-c", i.config) if i.config else ()),
           reload=lambda i: ("nginx", "-c", i.config, "-s", "reload") if i.config else _systemctl("reload", "nginx")),
    Preset("apache2", "etc/apache2/apache2.conf", 443, None, SEPARATE, None,
           check=lambda i: ("apache2ctl", "-f", i.config, "-t") if i.config else ("apache2ctl", "configtest"),
           reload=lambda i: (("apache2ctl", "-f", i.config, "-k", "graceful") if i.config
                             else _systemctl("reload", "apache2"))),
    Preset("haproxy", "etc/haproxy/haproxy.cfg", 443, None, COMBINED, None,
           check=lambda i: ("haproxy", "-c", "-q", "-f", i.config or "/etc/haproxy/haproxy.cfg"),
           reload=_signal("USR2", "haproxy"), uses_pidfile=True),
    Preset("postfix", "etc/postfix", 25, "smtp", SEPARATE, None,
           check=lambda i: ("postfix", *(("-c", i.config) if i.config else ()), "check"),
           reload=lambda i: (("postfix", "-c", i.config, "reload") if i.config
                             else _systemctl("reload", "postfix"))),
    Preset("dovecot", "etc/dovecot/dovecot.conf", 143, "imap", SEPARATE, None,
           check=lambda i: ("doveconf", "-n", *(("-c", i.config) if i.config else ())),
           reload=lambda i: (("doveadm", "-c", i.config, "reload") if i.config
                             else _systemctl("reload", "dovecot"))),
    Preset("postgresql", "etc/postgresql", 5432, "postgres", SEPARATE, "postgres",
           check=lambda i: (),  # no offline check; a bad key on SIGHUP keeps the old one and the probe sees it
           reload=_signal("HUP", "postgresql"), uses_pidfile=True),
    Preset("slapd", "etc/ldap/slapd.d", 389, "ldap", SEPARATE, "openldap",
           check=_slapd_check,
           reload=lambda i: None if i.config else _systemctl("restart", "slapd")),
)}


class PresetError(SafeDeployError):
    """An unknown service or a parameter it does not take."""


@dataclasses.dataclass(frozen=True)
class Resolved:
    preset: Preset
    instance: Instance
    check: tuple[str, ...]
    reload: tuple[str, ...] | None


def resolve(name: str, instance: Instance = Instance()) -> Resolved:
    """The preset's commands for ``instance``; raises :class:`PresetError`."""
    preset = PRESETS.get(name)
    if preset is None:
        raise PresetError(f"unknown service {name!r}", fix=f"use one of {', '.join(sorted(PRESETS))}")
    if instance.pidfile and not preset.uses_pidfile:
        raise PresetError(f"{name} does not use a pid file", fix="drop 'pidfile'")
    return Resolved(preset, instance, preset.check(instance), preset.reload(instance))
