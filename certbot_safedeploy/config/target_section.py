"""The ``[[target]]`` tables: where a lineage's files go, who reads them, how the service reloads.

Each target is parsed once, here, into a :class:`Target`; a ``service`` preset
(:mod:`certbot_safedeploy.config.service_presets`) fills in ``check``, ``reload``
and ``probe`` unless the target writes them.  Pure: tables in, typed targets out.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from certbot_safedeploy.config.reader import TableReader
from certbot_safedeploy.config.service_presets import Instance, PresetError, Resolved, resolve
from certbot_safedeploy.config.tomlsource import PathPart
from certbot_safedeploy.syntax.hostport import split_host_port
from certbot_safedeploy.verify.pinformat import PinFormatError, normalize_pin

PARTS = ("cert", "chain", "fullchain", "privkey")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
# STARTTLS protocols the probe speaks (deploy/starttls.py) and their usual ports;
# kept here so that parsing a config never imports the deploy package
STARTTLS_PORTS = {"smtp": 25, "imap": 143, "pop3": 110, "ldap": 389, "ftp": 21, "xmpp": 5222, "postgres": 5432}
TARGET_KEYS = ("name", "lineage", "pins", "owner", "group", "acl_read", "files", "check", "reload", "probe",
               "service", "uses", "key_types")
USES = ("server", "client")
KEY_TYPES = ("rsa", "ecdsa", "ed25519", "ed448")
FILE_KEYS = ("path", "content", "mode")
PROBE_KEYS = ("connect", "servername", "timeout", "starttls")
SERVICE_KEYS = ("name", "config", "pidfile")


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
    uses: tuple[str, ...] = ("server",)  # "server", "client": how the service uses the certificate
    key_types: tuple[str, ...] = ()  # key algorithms clients accept ("rsa", "ecdsa", ...); () any


def parse_targets(r: TableReader, value: Any) -> tuple[Target, ...]:
    """Every ``[[target]]``; names and destinations must be unique across targets."""
    raw = r.tables(value, ["target"], "target")
    targets = tuple(parse_target(r, t, ["target", i]) for i, t in enumerate(raw))
    seen_names: dict[str, int] = {}
    seen_paths: dict[str, tuple[int, int]] = {}
    for i, target in enumerate(targets):
        if target.name in seen_names:
            raise r.fail(["target", i, "name"], f"target name {target.name!r} is used twice")
        seen_names[target.name] = i
        for j, f in enumerate(target.files):
            if f.path in seen_paths:
                other = seen_paths[f.path]
                raise r.fail(["target", i, "files", j, "path"],
                             f"{f.path} is also written by target[{other[0]}].files[{other[1]}]",
                             "each destination may be written by one file entry only")
            seen_paths[f.path] = (i, j)
    return targets


def parse_target(r: TableReader, value: Any, path: list[PathPart]) -> Target:
    t = r.table(value, path, TARGET_KEYS)
    for required in ("name", "lineage", "files"):
        if required not in t:
            raise r.fail(path, f"missing required key {required!r}")
    name = r.string(t["name"], [*path, "name"])
    lineage = r.string(t["lineage"], [*path, "lineage"])
    for key, val in (("name", name), ("lineage", lineage)):
        if not _NAME.match(val):
            raise r.fail([*path, key], f"{val!r} has characters outside [A-Za-z0-9_.@-]")
    pins = r.strings(t.get("pins", []), [*path, "pins"])
    try:
        pins = tuple(normalize_pin(p) for p in pins)
    except PinFormatError as exc:
        raise r.fail([*path, "pins"], str(exc), "compute pins with: certbot-safedeploy pins FILE") from None
    if not isinstance(t["files"], list) or not t["files"]:
        raise r.fail([*path, "files"], "must be a non-empty list of tables")
    files = tuple(_file(r, f, [*path, "files", i]) for i, f in enumerate(t["files"]))
    preset = _service(r, t["service"], [*path, "service"]) if "service" in t else None
    check = r.argv(t["check"], [*path, "check"]) if "check" in t else (preset.check if preset else ())
    reload: tuple[str, ...] = ()
    if "reload" in t:
        reload = r.argv(t["reload"], [*path, "reload"])
    elif preset and preset.reload is None:
        raise r.fail([*path, "service"], f"{preset.preset.name} run from its own config has no reload command",
                     "add reload = [...] (e.g. a restart of that instance)"
                     + (" or the instance's pidfile" if preset.preset.uses_pidfile else ""))
    elif preset and preset.reload:
        reload = preset.reload
    probe: Probe | None = None
    if t.get("probe") is not False:
        if "probe" in t:
            probe = _probe(r, t["probe"], [*path, "probe"])
        elif preset:
            probe = _probe(r, preset.preset.probe_table(lineage), [*path, "service"])
    return Target(
        name=name,
        lineage=lineage,
        pins=pins,
        owner=r.account(t.get("owner", "root"), [*path, "owner"]),
        group=r.account(t.get("group", "root"), [*path, "group"]),
        acl_read=tuple(r.account(u, [*path, "acl_read", i])
                       for i, u in enumerate(r.strings(t.get("acl_read", []), [*path, "acl_read"]))),
        files=files,
        check=check,
        reload=reload,
        probe=probe,
        service=preset.preset.name if preset else "",
        service_config=(preset.instance.config or "") if preset else "",
        uses=_choices(r, t, path, "uses", USES, ("server",)),
        key_types=_choices(r, t, path, "key_types", KEY_TYPES, ()),
    )


def _choices(r: TableReader, t: dict[str, Any], path: list[PathPart], key: str, allowed: tuple[str, ...],
             default: tuple[str, ...]) -> tuple[str, ...]:
    """``uses = ["server", "client"]``, ``key_types = ["rsa"]``: a non-empty list of known words."""
    if key not in t:
        return default
    values = r.strings(t[key], [*path, key], empty=False)
    for i, value in enumerate(values):
        if value not in allowed:
            raise r.fail([*path, key, i], f"unknown value {value!r}", f"use {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise r.fail([*path, key], "a value is listed twice")
    return tuple(values)


def _service(r: TableReader, value: Any, path: list[PathPart]) -> Resolved:
    """``service = "nginx"`` or ``service = { name = "nginx", config = "/path", pidfile = "/path" }``."""
    if isinstance(value, str):
        name, instance = value, Instance()
    else:
        table = r.table(value, path, SERVICE_KEYS)
        if "name" not in table:
            raise r.fail(path, "a service table needs 'name'")
        name = r.string(table["name"], [*path, "name"])
        instance = Instance(
            r.abspath(table["config"], [*path, "config"]) if "config" in table else None,
            r.abspath(table["pidfile"], [*path, "pidfile"]) if "pidfile" in table else None)
        if instance.pidfile and not instance.config:
            raise r.fail([*path, "pidfile"], "a pidfile needs the instance's 'config' too")
    try:
        return resolve(name, instance)
    except PresetError as exc:
        raise r.fail(path, exc.message, exc.fix) from None


def _file(r: TableReader, value: Any, path: list[PathPart]) -> FileTarget:
    f = r.table(value, path, FILE_KEYS)
    if "path" not in f or "content" not in f:
        raise r.fail(path, "each file needs 'path' and 'content'")
    dest = r.abspath(f["path"], [*path, "path"])
    content = r.strings(f["content"], [*path, "content"], empty=False)
    for i, part in enumerate(content):
        if part not in PARTS:
            raise r.fail([*path, "content", i], f"unknown part {part!r}", f"use {', '.join(PARTS)}")
    if len(set(content)) != len(content):
        raise r.fail([*path, "content"], "a part is listed twice")
    holds_key = "privkey" in content
    mode_text = f.get("mode", "0600" if holds_key else "0644")
    if not isinstance(mode_text, str) or not re.fullmatch(r"0?[0-7]{3}", mode_text, re.ASCII):
        raise r.fail([*path, "mode"], f"{mode_text!r} is not an octal mode string like \"0640\"")
    mode = int(mode_text, 8)
    if holds_key and mode & 0o077:
        raise r.fail([*path, "mode"], f"{dest} holds a private key but mode {mode_text} lets others read it",
                     "use 0600 (or 0400) and grant services read access with acl_read")
    return FileTarget(dest, content, mode)


def _probe(r: TableReader, value: Any, path: list[PathPart]) -> Probe:
    p = r.table(value, path, PROBE_KEYS)
    if "connect" not in p or "servername" not in p:
        raise r.fail(path, "probe needs 'connect' (host:port) and 'servername'")
    starttls = None
    if "starttls" in p:
        starttls = r.string(p["starttls"], [*path, "starttls"])
        if starttls not in STARTTLS_PORTS:
            raise r.fail([*path, "starttls"], f"unknown STARTTLS protocol {starttls!r}",
                         f"use one of {', '.join(STARTTLS_PORTS)}, or leave it out for TLS from the first byte")
    default_port = STARTTLS_PORTS[starttls] if starttls else 443
    host, port = split_host_port(r.string(p["connect"], [*path, "connect"]), default_port)
    if port is None:
        raise r.fail([*path, "connect"], f"{p['connect']!r} is not host:port")
    timeout = p.get("timeout", 10)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 300:
        raise r.fail([*path, "timeout"], "must be a number of seconds between 0 and 300")
    return Probe(host, port, r.string(p["servername"], [*path, "servername"]), float(timeout), starttls)
