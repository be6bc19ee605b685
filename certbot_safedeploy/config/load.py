"""The TOML configuration (``/etc/letsencrypt/safedeploy.toml``): parse and validate.

:func:`parse_config` is pure: text in, typed objects out, every error naming the
key path and line.  :func:`load_config` adds the file-system checks: a config
that names commands run as root must be owned by root and not writable by group
or others, and no destination may sit behind a symlink someone else controls.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from certbot_safedeploy.system import fsutil
from certbot_safedeploy.errors import ConfigError
from certbot_safedeploy.config.tomlsource import PathPart, locate

if TYPE_CHECKING:
    from certbot_safedeploy.config.service_presets import Resolved

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

DEFAULT_PATH = "/etc/letsencrypt/safedeploy.toml"
DEFAULT_STATE_DIR = "/var/lib/certbot-safedeploy"
PARTS = ("cert", "chain", "fullchain", "privkey")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
# STARTTLS protocols the probe speaks (deploy/starttls.py) and their usual ports;
# kept here so that parsing a config never imports the deploy package
STARTTLS_PORTS = {"smtp": 25, "imap": 143, "pop3": 110, "ldap": 389, "ftp": 21, "xmpp": 5222, "postgres": 5432}
_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$", re.I)


@dataclasses.dataclass(frozen=True)
class FileTarget:
    path: str
    content: tuple[str, ...]
    mode: int

    @property
    def holds_key(self) -> bool:
        return "privkey" in self.content


@dataclasses.dataclass(frozen=True)
class Probe:
    host: str
    port: int
    servername: str
    timeout: float
    starttls: str | None = None  # "smtp", "imap", ... (deploy/starttls.py); None: TLS from the first byte

    def __str__(self) -> str:
        via = f" via STARTTLS/{self.starttls}" if self.starttls else ""
        return f"{self.host}:{self.port} (SNI {self.servername}{via})"


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    lineage: str
    pins: tuple[str, ...]
    owner: str
    group: str
    acl_read: tuple[str, ...]
    files: tuple[FileTarget, ...]
    check: tuple[str, ...]
    reload: tuple[str, ...]
    probe: Probe | None
    service: str = ""  # preset name, when the target names one
    service_config: str = ""  # the service instance's configuration, when not the default


@dataclasses.dataclass(frozen=True)
class Config:
    source: str
    trust_anchors: tuple[str, ...]
    backups: int
    state_dir: str
    targets: tuple[Target, ...]
    raw_sections: Mapping[str, Any]  # validated by the modules that own them

    def targets_for(self, lineage_name: str) -> list[Target]:
        return [t for t in self.targets if t.lineage == lineage_name]

    @property
    def runs_commands(self) -> bool:
        notify = self.raw_sections.get("notify", {})
        return (any(t.check or t.reload for t in self.targets) or bool(notify.get("command") or notify.get("mail"))
                or "certbot" in self.raw_sections.get("fleet", {}))


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source

    def fail(self, path: Sequence[PathPart], message: str, fix: str = "") -> ConfigError:
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        line = locate(self.text, path)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{dotted}: {message}", path=where, fix=fix)

    def table(self, value: Any, path: Sequence[PathPart], allowed: Sequence[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {type(value).__name__}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.fail([*path, unknown[0]], f"unknown key {unknown[0]!r}",
                            f"allowed here: {', '.join(allowed)}")
        return value

    def string(self, value: Any, path: Sequence[PathPart]) -> str:
        if not isinstance(value, str) or not value or "\x00" in value:
            raise self.fail(path, "must be a non-empty string")
        return value

    def strings(self, value: Any, path: Sequence[PathPart], *, empty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, "must be a list of strings")
        items = tuple(self.string(v, [*path, i]) for i, v in enumerate(value))
        if not items and not empty:
            raise self.fail(path, "must not be empty")
        return items

    def abspath(self, value: Any, path: Sequence[PathPart]) -> str:
        text = self.string(value, path)
        if not os.path.isabs(text) or os.path.normpath(text) != text.rstrip("/") or ".." in text.split("/"):
            raise self.fail(path, f"{text!r} is not a normalized absolute path",
                            "write the full path, e.g. /etc/nginx/tls/site.crt")
        return text

    def argv(self, value: Any, path: Sequence[PathPart]) -> tuple[str, ...]:
        argv = self.strings(value, path, empty=False)
        return argv

    def account(self, value: Any, path: Sequence[PathPart]) -> str:
        text = self.string(value, path)
        if not _ACCOUNT.match(text) and not text.isdigit():
            raise self.fail(path, f"{text!r} is not a valid user or group name")
        return text

    def target(self, value: Any, path: list[PathPart]) -> Target:
        keys = ("name", "lineage", "pins", "owner", "group", "acl_read", "files",
                "check", "reload", "probe", "service")
        t = self.table(value, path, keys)
        for required in ("name", "lineage", "files"):
            if required not in t:
                raise self.fail(path, f"missing required key {required!r}")
        name = self.string(t["name"], [*path, "name"])
        lineage = self.string(t["lineage"], [*path, "lineage"])
        for key, val in (("name", name), ("lineage", lineage)):
            if not _NAME.match(val):
                raise self.fail([*path, key], f"{val!r} has characters outside [A-Za-z0-9_.@-]")
        pins = self.strings(t.get("pins", []), [*path, "pins"])
        from certbot_safedeploy.verify.pinformat import PinFormatError, normalize_pin

        try:
            pins = tuple(normalize_pin(p) for p in pins)
        except PinFormatError as exc:
            raise self.fail([*path, "pins"], str(exc),
                            "compute pins with: certbot-safedeploy pins FILE") from None
        if not isinstance(t["files"], list) or not t["files"]:
            raise self.fail([*path, "files"], "must be a non-empty list of tables")
        files = tuple(self.file(f, [*path, "files", i]) for i, f in enumerate(t["files"]))
        preset = self.service(t["service"], [*path, "service"]) if "service" in t else None
        check = self.argv(t["check"], [*path, "check"]) if "check" in t else (preset.check if preset else ())
        reload: tuple[str, ...] = ()
        if "reload" in t:
            reload = self.argv(t["reload"], [*path, "reload"])
        elif preset and preset.reload is None:
            raise self.fail([*path, "service"], f"{preset.preset.name} run from its own config has no reload command",
                            "add reload = [...] (e.g. a restart of that instance)"
                            + (" or the instance's pidfile" if preset.preset.uses_pidfile else ""))
        elif preset and preset.reload:
            reload = preset.reload
        probe: Probe | None = None
        if t.get("probe") is not False:
            if "probe" in t:
                probe = self.probe(t["probe"], [*path, "probe"])
            elif preset:
                probe = self.probe(preset.preset.probe_table(lineage), [*path, "service"])
        return Target(
            name=name,
            lineage=lineage,
            pins=pins,
            owner=self.account(t.get("owner", "root"), [*path, "owner"]),
            group=self.account(t.get("group", "root"), [*path, "group"]),
            acl_read=tuple(self.account(u, [*path, "acl_read", i])
                           for i, u in enumerate(self.strings(t.get("acl_read", []), [*path, "acl_read"]))),
            files=files,
            check=check,
            reload=reload,
            probe=probe,
            service=preset.preset.name if preset else "",
            service_config=(preset.instance.config or "") if preset else "",
        )

    def service(self, value: Any, path: list[PathPart]) -> Resolved:
        """``service = "nginx"`` or ``service = { name = "nginx", config = "/path", pidfile = "/path" }``."""
        from certbot_safedeploy.config.service_presets import Instance, PresetError, resolve

        if isinstance(value, str):
            name, instance = value, Instance()
        else:
            table = self.table(value, path, ("name", "config", "pidfile"))
            if "name" not in table:
                raise self.fail(path, "a service table needs 'name'")
            name = self.string(table["name"], [*path, "name"])
            instance = Instance(
                self.abspath(table["config"], [*path, "config"]) if "config" in table else None,
                self.abspath(table["pidfile"], [*path, "pidfile"]) if "pidfile" in table else None)
            if instance.pidfile and not instance.config:
                raise self.fail([*path, "pidfile"], "a pidfile needs the instance's 'config' too")
        try:
            return resolve(name, instance)
        except PresetError as exc:
            raise self.fail(path, exc.message, exc.fix) from None

    def file(self, value: Any, path: list[PathPart]) -> FileTarget:
        f = self.table(value, path, ("path", "content", "mode"))
        if "path" not in f or "content" not in f:
            raise self.fail(path, "each file needs 'path' and 'content'")
        dest = self.abspath(f["path"], [*path, "path"])
        content = self.strings(f["content"], [*path, "content"], empty=False)
        for i, part in enumerate(content):
            if part not in PARTS:
                raise self.fail([*path, "content", i], f"unknown part {part!r}",
                                f"use {', '.join(PARTS)}")
        if len(set(content)) != len(content):
            raise self.fail([*path, "content"], "a part is listed twice")
        holds_key = "privkey" in content
        default_mode = "0600" if holds_key else "0644"
        mode_text = f.get("mode", default_mode)
        if not isinstance(mode_text, str) or not re.fullmatch(r"0?[0-7]{3}", mode_text):
            raise self.fail([*path, "mode"], f"{mode_text!r} is not an octal mode string like \"0640\"")
        mode = int(mode_text, 8)
        if holds_key and mode & 0o077:
            raise self.fail([*path, "mode"],
                            f"{dest} holds a private key but mode {mode_text} lets others read it",
                            "use 0600 (or 0400) and grant services read access with acl_read")
        return FileTarget(dest, content, mode)

    def probe(self, value: Any, path: list[PathPart]) -> Probe:
        p = self.table(value, path, ("connect", "servername", "timeout", "starttls"))
        if "connect" not in p or "servername" not in p:
            raise self.fail(path, "probe needs 'connect' (host:port) and 'servername'")
        starttls = None
        if "starttls" in p:
            starttls = self.string(p["starttls"], [*path, "starttls"])
            if starttls not in STARTTLS_PORTS:
                raise self.fail([*path, "starttls"], f"unknown STARTTLS protocol {starttls!r}",
                                f"use one of {', '.join(STARTTLS_PORTS)}, or leave it out for TLS from the first byte")
        default_port = STARTTLS_PORTS[starttls] if starttls else 443
        host, port = fsutil.split_host_port(self.string(p["connect"], [*path, "connect"]), default_port)
        if port is None:
            raise self.fail([*path, "connect"], f"{p['connect']!r} is not host:port")
        timeout = p.get("timeout", 10)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 300:
            raise self.fail([*path, "timeout"], "must be a number of seconds between 0 and 300")
        return Probe(host, port, self.string(p["servername"], [*path, "servername"]), float(timeout), starttls)


FACILITY_NAMES = ("daemon", "user", "auth", *(f"local{i}" for i in range(8)))


def _check_notify(p: _Parser, table: Any) -> None:
    t = p.table(table, ["notify"], ("mail", "command", "syslog_facility"))
    if "mail" in t:
        mail = p.table(t["mail"], ["notify", "mail"], ("to", "from", "smtp", "sendmail"))
        p.strings(mail.get("to"), ["notify", "mail", "to"], empty=False)
        if ("smtp" in mail) == ("sendmail" in mail):
            raise p.fail(["notify", "mail"], "needs exactly one of smtp = \"host:port\" or sendmail = \"/path\"")
        if "smtp" in mail and fsutil.split_host_port(p.string(mail["smtp"], ["notify", "mail", "smtp"]), 25)[1] is None:
            raise p.fail(["notify", "mail", "smtp"], "is not host:port")
        if "sendmail" in mail:
            p.abspath(mail["sendmail"], ["notify", "mail", "sendmail"])
    if "command" in t:
        p.argv(t["command"], ["notify", "command"])
    if t.get("syslog_facility", "daemon") not in FACILITY_NAMES:
        raise p.fail(["notify", "syslog_facility"], f"must be one of {', '.join(FACILITY_NAMES)}")


def _check_status(p: _Parser, table: Any) -> dict[str, str]:
    t = p.table(table, ["status"], ("file", "prometheus"))
    return {k: p.abspath(v, ["status", k]) for k, v in t.items()}


TOP_LEVEL = ("trust_anchors", "backups", "state_dir", "target", "challenge", "notify", "status", "fleet")


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and validate ``text``; raises :class:`ConfigError` with a line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=source,
                          fix="fix the syntax at the line shown") from None
    p = _Parser(text, source)
    p.table(data, [], TOP_LEVEL)
    anchors = tuple(p.abspath(a, ["trust_anchors", i])
                    for i, a in enumerate(p.strings(data.get("trust_anchors", []), ["trust_anchors"])))
    backups = data.get("backups", 3)
    if not isinstance(backups, int) or isinstance(backups, bool) or not 0 <= backups <= 100:
        raise p.fail(["backups"], "must be a whole number from 0 to 100")
    state_dir = p.abspath(data.get("state_dir", DEFAULT_STATE_DIR), ["state_dir"])
    raw_targets = data.get("target", [])
    if not isinstance(raw_targets, list):
        raise p.fail(["target"], "must be an array of tables: write [[target]]")
    targets = tuple(p.target(t, ["target", i]) for i, t in enumerate(raw_targets))
    seen_names: dict[str, int] = {}
    seen_paths: dict[str, tuple[int, int]] = {}
    for i, target in enumerate(targets):
        if target.name in seen_names:
            raise p.fail(["target", i, "name"], f"target name {target.name!r} is used twice")
        seen_names[target.name] = i
        for j, f in enumerate(target.files):
            if f.path in seen_paths:
                other = seen_paths[f.path]
                raise p.fail(["target", i, "files", j, "path"],
                             f"{f.path} is also written by target[{other[0]}].files[{other[1]}]",
                             "each destination may be written by one file entry only")
            seen_paths[f.path] = (i, j)
    sections: dict[str, Any] = {k: data[k] for k in ("challenge", "notify") if k in data}
    if "notify" in data:
        _check_notify(p, data["notify"])
    if "challenge" in data:
        from certbot_safedeploy.config.challenge_section import TABLE_KEYS, settings_from_table
        from certbot_safedeploy.errors import ChallengeError

        try:
            settings_from_table(p.table(data["challenge"], ["challenge"], TABLE_KEYS), source)
        except ChallengeError as exc:
            raise ConfigError(exc.message, path=f"{source}:{locate(text, ['challenge']) or '?'}", fix=exc.fix) from None
    if "fleet" in data:
        from certbot_safedeploy.config.fleet_section import KEYS as FLEET_KEYS, FleetSettingsError, settings_from_table as fleet_settings

        table = p.table(data["fleet"], ["fleet"], FLEET_KEYS)
        try:
            fleet_settings(table, state_dir)
        except FleetSettingsError as exc:
            raise p.fail(["fleet", exc.key], exc.message, exc.fix) from None
        sections["fleet"] = table
    status = _check_status(p, data.get("status", {}))
    status.setdefault("file", os.path.join(state_dir, "status.json"))
    sections["status"] = status
    return Config(source, anchors, backups, state_dir, targets, sections)


def load_config(path: str) -> Config:
    """Read, check ownership and paths, and parse the config at ``path``."""
    try:
        text = fsutil.read_trusted_text(path)
    except FileNotFoundError:
        raise ConfigError("config file does not exist", path=path,
                          fix="create it (see README.rst) or set SAFEDEPLOY_CONFIG") from None
    except OSError as exc:
        if os.path.islink(path):
            raise ConfigError("config is a symlink; refusing to follow it", path=path,
                              fix=f"point SAFEDEPLOY_CONFIG / --config at the real file ({os.path.realpath(path)})") from None
        raise ConfigError(f"cannot read the config: {exc.strerror}", path=path,
                          fix="make it a regular file readable by root") from None
    config = parse_config(text, path)
    if config.runs_commands:
        problem = fsutil.unsafe_ownership(path, require_root=True)
        if problem:
            raise ConfigError(f"names commands run as root, but {problem}", path=path,
                              fix=f"chown root:root {path} && chmod go-w {path}")
    for target in config.targets:
        for f in target.files:
            problem = fsutil.untrusted_ancestor(os.path.dirname(f.path))
            if problem:
                raise ConfigError(f"destination {f.path}: {problem}", path=path,
                                  fix="point the target at a directory only root can change")
    return config
