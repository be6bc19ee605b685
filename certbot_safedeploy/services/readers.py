"""Read each installed service's effective configuration (I/O: runs the services' own tools).

``locations`` maps a preset name to the configuration to read; by default the
Debian path under the system root.  A service counts as installed when its
reading tool is on PATH and that configuration exists.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import shutil
import subprocess
from typing import Mapping, Sequence

from certbot_safedeploy.services.parse import (Reference, parse_apache_file, parse_apache_includes, parse_doveconf, parse_haproxy,
                    parse_nginx_dump, parse_postconf, parse_postgresql, parse_slapd)
from certbot_safedeploy.system import readfile
from certbot_safedeploy.config.service_presets import PRESETS, Instance

TIMEOUT = 30.0
LIMIT = 4 << 20  # bytes of output or file read


@dataclasses.dataclass(frozen=True)
class ServiceConfig:
    service: str
    config: str  # what was read
    default: bool  # the Debian default location (systemd-managed), not an override
    references: tuple[Reference, ...] = ()
    pidfile: str | None = None
    error: str = ""  # why the configuration could not be read


TOOLS = {"nginx": "nginx", "apache2": "apache2ctl", "haproxy": "haproxy", "postfix": "postconf",
         "dovecot": "doveconf", "slapd": "slapcat", "postgresql": "pg_lsclusters"}


def _run(argv: Sequence[str]) -> str:
    proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, check=False)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-2:])
        raise OSError(f"{' '.join(argv[:2])} ... exit {proc.returncode}: {tail}")
    return proc.stdout[:LIMIT].decode("utf-8", "replace")


def _read(path: str) -> str:
    return readfile.read_bytes(path, LIMIT, truncate=True).decode("utf-8", "replace")


def _nginx(config: str) -> tuple[list[Reference], str | None]:
    """``nginx -T``; when it fails (a broken certificate already in live/ fails the test
    too), the files themselves, following ``include`` as nginx does."""
    try:
        return parse_nginx_dump(_run(["nginx", "-T", "-q", "-c", config])), None
    except OSError:
        return parse_nginx_dump(_nginx_files(config)), None


_INCLUDE = re.compile(r"(?:^|[;{}\s])include\s+(\"[^\"]*\"|'[^']*'|[^;\s]+)\s*;")


def _nginx_files(config: str, limit: int = 256) -> str:
    """The same ``# configuration file`` dump nginx -T prints, built by reading the files."""
    seen: list[str] = []
    pending = [config]
    out = []
    while pending and len(seen) < limit:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.append(path)
        text = _read(path)
        out.append(f"# configuration file {path}:\n{text}")
        for match in _INCLUDE.finditer(text):
            pattern = match.group(1).strip("\"'")
            pending += sorted(glob.glob(os.path.join(os.path.dirname(config), pattern)))
    return "\n".join(out)


def _apache2(config: str) -> tuple[list[Reference], str | None]:
    files = parse_apache_includes(_run(["apache2ctl", "-f", config, "-t", "-D", "DUMP_INCLUDES"]))
    refs: list[Reference] = []
    root = os.path.dirname(config)
    for path in files or [config]:
        text = _read(path)
        for line in text.splitlines():
            words = line.split(None, 1)
            if len(words) == 2 and words[0].lower() == "serverroot":
                root = words[1].strip().strip('"')
        refs += parse_apache_file(text, path, root)
    return refs, None


def _haproxy(config: str) -> tuple[list[Reference], str | None]:
    files = sorted(glob.glob(os.path.join(config, "*.cfg"))) if os.path.isdir(config) else [config]
    refs: list[Reference] = []
    pidfile = None
    for path in files:
        found, pid = parse_haproxy(_read(path), path)
        refs += found
        pidfile = pid or pidfile
    return refs, pidfile


def _postfix(config: str) -> tuple[list[Reference], str | None]:
    main = parse_postconf(_run(["postconf", "-c", config, "-n", "-x"]), os.path.join(config, "main.cf"))
    master = parse_postconf(_run(["postconf", "-c", config, "-P", "-x"]), os.path.join(config, "master.cf"))
    return main + master, None


def _dovecot(config: str) -> tuple[list[Reference], str | None]:
    return parse_doveconf(_run(["doveconf", "-c", config, "-n", "-P"]), config), None


def _postgresql(config: str) -> tuple[list[Reference], str | None]:
    """postgresql.conf and its includes; a directory means every cluster in it
    (Debian's /etc/postgresql/VERSION/CLUSTER/postgresql.conf).  Relative TLS paths
    are relative to the data directory; the pid file is its postmaster.pid."""
    if os.path.isdir(config):
        refs: list[Reference] = []
        for path in sorted(glob.glob(os.path.join(config, "*", "*", "postgresql.conf"))):
            refs += _postgresql(path)[0]
        return refs, None
    found: list[Reference] = []
    data_dir = os.path.dirname(config)
    pending, seen = [config], set[str]()
    while pending and len(seen) < 256:
        path = pending.pop(0)
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        parsed = parse_postgresql(_read(path), path)
        found += parsed.references
        data_dir = parsed.data_directory or data_dir
        for kind, target in parsed.includes:
            target = os.path.join(os.path.dirname(path), target)
            pending += sorted(glob.glob(os.path.join(target, "*.conf"))) if kind == "include_dir" else [target]
    refs = [dataclasses.replace(r, path=os.path.join(data_dir, r.path)) for r in found]
    return refs, os.path.join(data_dir, "postmaster.pid")


def _slapd(config: str) -> tuple[list[Reference], str | None]:
    if os.path.isdir(config):
        return parse_slapd(_run(["slapcat", "-F", config, "-n", "0"]), config), None
    return parse_slapd(_read(config), config), None


READERS = {"nginx": _nginx, "apache2": _apache2, "haproxy": _haproxy, "postfix": _postfix,
           "dovecot": _dovecot, "slapd": _slapd, "postgresql": _postgresql}


def installed(system_root: str = "/", locations: Mapping[str, str] | None = None,
              only: Sequence[str] = ()) -> list[tuple[str, str, bool]]:
    """(service, config, default?) for each preset service present on this machine."""
    out = []
    for name, preset in PRESETS.items():
        if only and name not in only:
            continue
        override = (locations or {}).get(name)
        config = override or preset.config_path(Instance(), system_root)
        if shutil.which(TOOLS[name]) and os.path.exists(config):
            out.append((name, config, override is None))
    return out


def read_service(service: str, config: str, default: bool) -> ServiceConfig:
    try:
        refs, pidfile = READERS[service](config)
    except (OSError, subprocess.SubprocessError, UnicodeError) as exc:
        return ServiceConfig(service, config, default, error=str(exc) or type(exc).__name__)
    return ServiceConfig(service, config, default, tuple(refs), pidfile)


def read_installed(system_root: str = "/", locations: Mapping[str, str] | None = None,
                   only: Sequence[str] = ()) -> list[ServiceConfig]:
    return [read_service(name, config, default) for name, config, default in installed(system_root, locations, only)]
