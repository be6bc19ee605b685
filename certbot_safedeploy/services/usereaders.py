"""Read how an installed service uses its certificates (I/O: runs the services' own tools).

The same sources as :mod:`.readers`, parsed by :mod:`.uses`.  A service that
cannot be read yields no uses and the reason, never an exception.
"""

from __future__ import annotations

import glob
import os
import subprocess
from typing import Callable

from certbot_safedeploy.services import readers
from certbot_safedeploy.services.parse import parse_apache_includes
from certbot_safedeploy.services.uses import (Use, parse_apache_uses, parse_haproxy_uses, parse_nginx_uses,
                                              parse_postfix_uses, parse_postgresql_uses, parse_slapd_uses,
                                              postfix_lines)


def _nginx(config: str) -> list[Use]:
    try:
        text = readers._run(["nginx", "-T", "-q", "-c", config])
    except OSError:
        text = readers._nginx_files(config)
    return parse_nginx_uses(text)


def _apache2(config: str) -> list[Use]:
    try:
        files = parse_apache_includes(readers._run(["apache2ctl", "-f", config, "-t", "-D", "DUMP_INCLUDES"]))
    except OSError:
        files = []
    uses: list[Use] = []
    root = os.path.dirname(config)
    for path in files or [config]:
        text = readers._read(path)
        for line in text.splitlines():
            words = line.split(None, 1)
            if len(words) == 2 and words[0].lower() == "serverroot":
                root = words[1].strip().strip('"')
        uses += parse_apache_uses(text, path, root)
    return uses


def _haproxy(config: str) -> list[Use]:
    files = sorted(glob.glob(os.path.join(config, "*.cfg"))) if os.path.isdir(config) else [config]
    return [u for path in files for u in parse_haproxy_uses(readers._read(path), path)]


def _postfix(config: str) -> list[Use]:
    main_cf = os.path.join(config, "main.cf")
    try:
        where = postfix_lines(readers._read(main_cf), main_cf)
    except OSError:
        where = {}
    return parse_postfix_uses(readers._run(["postconf", "-c", config, "-n", "-x"]), where)


def _slapd(config: str) -> list[Use]:
    if os.path.isdir(config):
        return parse_slapd_uses(readers._run(["slapcat", "-F", config, "-n", "0"]), "slapcat -n 0")
    return parse_slapd_uses(readers._read(config), config)


def _postgresql(config: str) -> list[Use]:
    paths = [config] if not os.path.isdir(config) else sorted(
        glob.glob(os.path.join(config, "*", "*", "postgresql.conf")))
    uses: list[Use] = []
    for path in paths:
        uses += parse_postgresql_uses(readers._read(path), path)
        auto = os.path.join(os.path.dirname(path), "postgresql.auto.conf")
        if os.path.isfile(auto):
            uses += parse_postgresql_uses(readers._read(auto), auto)
    return uses


USE_READERS: dict[str, Callable[[str], list[Use]]] = {
    "nginx": _nginx, "apache2": _apache2, "haproxy": _haproxy, "postfix": _postfix,
    "slapd": _slapd, "postgresql": _postgresql}


def read_uses(service: str, config: str) -> tuple[list[Use], str]:
    """(uses, "") or ([], why the configuration could not be read)."""
    reader = USE_READERS.get(service)
    if reader is None:
        return [], ""
    try:
        return reader(config), ""
    except (OSError, subprocess.SubprocessError, UnicodeError) as exc:
        return [], str(exc) or type(exc).__name__
