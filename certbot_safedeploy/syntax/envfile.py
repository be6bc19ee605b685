"""Environment assignments in the files that set them (pure: text in, values out).

* shell-style files: ``/etc/sysconfig/certbot`` (EPEL's certbot-renew.service reads it
  through ``EnvironmentFile=``), ``/etc/environment`` (pam_env), ``/etc/profile.d/*.sh``
  (``export NAME=value``);
* systemd unit files and drop-ins: ``Environment=`` and ``EnvironmentFile=`` in
  ``[Service]`` (systemd.exec(5)).

Only literal assignments are read: a value built from ``$(...)`` or another variable is
kept as written, and nothing is ever run.
"""

from __future__ import annotations

import dataclasses
import re
import shlex

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ASSIGN = re.compile(rf"^\s*(?:export\s+)?({_NAME})=(.*)$")


@dataclasses.dataclass(frozen=True)
class Assignment:
    name: str
    value: str
    line: int  # 1-based


def _unquote(value: str) -> str:
    """A shell word as a shell (or systemd's EnvironmentFile= reader) would see it; a value
    shlex cannot split (an unbalanced quote) is kept as written."""
    value = value.strip()
    if not value:
        return ""
    try:
        words = shlex.split(value, comments=True)
    except ValueError:
        return value
    return " ".join(words)


def parse_env_file(text: str) -> list[Assignment]:
    """``NAME=value`` and ``export NAME=value`` lines; comments and other commands are skipped."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGN.match(line)
        if match:
            out.append(Assignment(match.group(1), _unquote(match.group(2)), number))
    return out


@dataclasses.dataclass(frozen=True)
class UnitEnvironment:
    environment: tuple[Assignment, ...]  # Environment= assignments, in order
    files: tuple[str, ...]  # EnvironmentFile= paths ("-" prefix removed: a missing file is ignored)
    exec_start: tuple[str, ...]  # ExecStart= command lines as written


def parse_unit_environment(text: str) -> UnitEnvironment:
    """``Environment=``, ``EnvironmentFile=`` and ``ExecStart=`` of a unit's ``[Service]`` section.
    An empty ``Environment=``/``EnvironmentFile=`` resets the list, as systemd does for drop-ins."""
    env: list[Assignment] = []
    files: list[str] = []
    execs: list[str] = []
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section != "Service" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == "Environment":
            if not value:
                env.clear()
                continue
            try:
                words = shlex.split(value)
            except ValueError:
                continue
            for word in words:
                name, sep, val = word.partition("=")
                if sep and re.fullmatch(_NAME, name):
                    env.append(Assignment(name, val, number))
        elif key == "EnvironmentFile":
            if not value:
                files.clear()
            else:
                files.append(value[1:] if value.startswith("-") else value)
        elif key == "ExecStart" and value:
            execs.append(value)
    return UnitEnvironment(tuple(env), tuple(files), tuple(execs))
