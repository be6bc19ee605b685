"""Challenge settings shared by the plugin and the hooks: the ``[challenge]`` table.

The plugin reads the same table with ``--safedeploy-config FILE`` and lets its
CLI options override it.  Per-zone entries (``[[challenge.zone]]``) name the
server and TSIG key for a zone and every name below it, unless a longer entry
matches::

    [challenge]
    resolver = "127.0.0.53"
    [[challenge.zone]]
    name = "example.com"
    server = "ns1.example.com:53"
    tsig_key = "/etc/letsencrypt/example.com.key"
    dns_port = 53
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from certbot_safedeploy.config.reader import TableReader
from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.syntax.hostport import split_host_port
from certbot_safedeploy.syntax.acme_values import check_domain, normalize_webroot_map
from certbot_safedeploy.syntax.pathnames import path_fix, path_problem, shown_path

SELF_CHECK_MODES = ("warn", "strict", "off")
UNREACHABLE_MODES = ("fail", "warn")
DEFAULT_PROPAGATION_TIMEOUT = 120.0
ZONE_KEYS = ("name", "server", "tsig_key", "dns_port")


def _check_server(text: str, what: str) -> None:
    if split_host_port(text, 53)[1] is None:
        raise ChallengeError(f"{what} {text!r} is not HOST[:PORT]", fix='write it like "192.0.2.53:53"')


@dataclasses.dataclass(frozen=True)
class ZoneEntry:
    """Where UPDATEs for ``name`` and the names below it go, and with which key."""

    name: str
    server: str | None = None  # None: the zone's SOA MNAME
    tsig_key: str | None = None  # None: the global key
    dns_port: int | None = None  # authoritative checks; default: the server's port

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", check_domain(self.name, wildcard_ok=False))
        if self.server is not None:
            _check_server(self.server, f"zone {self.name}: server")
        problem = path_problem(self.tsig_key, normalized=False) if self.tsig_key is not None else None
        if self.tsig_key is not None and problem:
            raise ChallengeError(f"zone {self.name}: tsig_key {shown_path(self.tsig_key)} {problem}",
                                 fix=path_fix(problem))
        if self.dns_port is not None and not 0 < self.dns_port < 65536:
            raise ChallengeError(f"zone {self.name}: dns_port must be between 1 and 65535")


@dataclasses.dataclass(frozen=True)
class ChallengeSettings:
    webroot: str | None = None
    webroot_map: Mapping[str, str] = dataclasses.field(default_factory=dict)
    http_port: int = 80
    self_check: str = "warn"
    self_check_address: str | None = None
    nsupdate_server: str | None = None
    tsig_key: str | None = None
    dns_port: int | None = None
    propagation_timeout: float = DEFAULT_PROPAGATION_TIMEOUT
    unreachable_ns: str = "fail"
    resolver: str | None = None  # HOST[:PORT] of a recursive resolver; None: the system's
    zone: tuple[ZoneEntry, ...] = ()

    def __post_init__(self) -> None:
        if self.self_check not in SELF_CHECK_MODES:
            raise ChallengeError(f"self-check mode {self.self_check!r} is not one of {SELF_CHECK_MODES}")
        if self.unreachable_ns not in UNREACHABLE_MODES:
            raise ChallengeError(f"unreachable-ns {self.unreachable_ns!r} is not one of {UNREACHABLE_MODES}")
        if not 0 < self.http_port < 65536 or (self.dns_port is not None and not 0 < self.dns_port < 65536):
            raise ChallengeError("ports must be between 1 and 65535")
        if not 0 < self.propagation_timeout <= 3600:
            raise ChallengeError("propagation timeout must be between 1 and 3600 seconds")
        for what, path in (("webroot", self.webroot), ("tsig_key", self.tsig_key),
                           *((f"webroot for {d}", p) for d, p in self.webroot_map.items())):
            problem = path_problem(path, normalized=False) if path is not None else None
            if path is not None and problem:
                raise ChallengeError(f"{what} {shown_path(path)} {problem}", fix=path_fix(problem))
        for what, server in (("nsupdate server", self.nsupdate_server), ("resolver", self.resolver)):
            if server:
                _check_server(server, what)
        names = [z.name for z in self.zone]
        if len(set(names)) != len(names):
            raise ChallengeError("a [[challenge.zone]] name is listed twice")

    def webroot_for(self, domain: str) -> str | None:
        if domain.startswith("*."):
            return None
        return self.webroot_map.get(check_domain(domain), self.webroot)

    @property
    def dns_enabled(self) -> bool:
        return bool(self.nsupdate_server or self.zone or self.tsig_key)

    def methods_for(self, domain: str) -> list[str]:
        """Usable challenge types for ``domain``, preferred first."""
        methods = []
        if self.webroot_for(domain):
            methods.append("http-01")
        if self.dns_enabled:
            methods.append("dns-01")
        return methods

    def zone_for(self, name: str) -> ZoneEntry | None:
        """The longest ``[[challenge.zone]]`` entry that is ``name`` or a parent of it."""
        name = name.rstrip(".").lower()
        best: ZoneEntry | None = None
        for entry in self.zone:
            if name == entry.name or name.endswith("." + entry.name):
                if best is None or len(entry.name) > len(best.name):
                    best = entry
        return best

    def key_paths(self) -> list[str]:
        return sorted({p for p in [self.tsig_key, *(z.tsig_key for z in self.zone)] if p})


TABLE_KEYS = tuple(f.name for f in dataclasses.fields(ChallengeSettings))
_NUMBERS: dict[str, type | tuple[type, ...]] = {
    "http_port": int, "dns_port": int, "propagation_timeout": (int, float)}
_STRINGS = ("webroot", "self_check", "self_check_address", "nsupdate_server", "tsig_key", "unreachable_ns",
            "resolver", "name", "server")


def _check_types(table: Mapping[str, Any], where: str, source: str) -> None:
    for key, value in table.items():
        kind = _NUMBERS.get(key)
        if kind is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise ChallengeError(f"{where}.{key} must be a number", path=source)
        if key in _STRINGS and not isinstance(value, str):
            raise ChallengeError(f"{where}.{key} must be a string", path=source)


def _zone_entries(raw: Any, source: str) -> tuple[ZoneEntry, ...]:
    if not isinstance(raw, list):
        raise ChallengeError("[challenge].zone must be an array of tables: write [[challenge.zone]]", path=source)
    entries = []
    for i, item in enumerate(raw):
        where = f"[challenge].zone[{i}]"
        if not isinstance(item, dict):
            raise ChallengeError(f"{where} must be a table", path=source)
        unknown = sorted(set(item) - set(ZONE_KEYS))
        if unknown or "name" not in item:
            raise ChallengeError(f"{where}: " + (f"unknown key {unknown[0]!r}" if unknown else "missing 'name'"),
                                 path=source, fix=f"allowed: {', '.join(ZONE_KEYS)}")
        _check_types(item, where, source)
        entries.append(ZoneEntry(**item))
    return tuple(entries)


def settings_from_table(table: Mapping[str, Any], source: str,
                        overrides: Mapping[str, Any] | None = None) -> ChallengeSettings:
    """Build settings from the config's ``[challenge]`` table; ``overrides`` (plugin CLI) win."""
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise ChallengeError(f"[challenge]: unknown key {unknown[0]!r}", path=source,
                             fix=f"allowed: {', '.join(sorted(TABLE_KEYS))}")
    values = dict(table)
    try:
        if "webroot_map" in values:
            if not isinstance(values["webroot_map"], dict):
                raise ChallengeError("[challenge].webroot_map must be a table", path=source)
            values["webroot_map"] = normalize_webroot_map(values["webroot_map"])
        _check_types({k: v for k, v in values.items() if k != "zone"}, "[challenge]", source)
        if "zone" in values:
            values["zone"] = _zone_entries(values["zone"], source)
        values.update(overrides or {})
        return ChallengeSettings(**values)
    except ChallengeError as exc:
        message = exc.message if exc.message.startswith("[challenge]") else f"[challenge]: {exc.message}"
        raise ChallengeError(message, path=source, fix=exc.fix) from None


def parse_challenge(r: TableReader, value: Any) -> ChallengeSettings:
    """The config file's ``[challenge]`` table; errors name the file, the line and the key."""
    table = r.table(value, ["challenge"], TABLE_KEYS)
    for key, item in table.items():
        if key == "zone":
            for i, zone in enumerate(r.tables(item, ["challenge", "zone"], "challenge.zone")):
                entry = r.table(zone, ["challenge", "zone", i], ZONE_KEYS)
                if "name" not in entry:
                    raise r.fail(["challenge", "zone", i], "missing 'name'", f"allowed: {', '.join(ZONE_KEYS)}")
                _check_key_types(r, entry, ["challenge", "zone", i])
        elif key == "webroot_map":
            r.table(item, ["challenge", "webroot_map"], tuple(item) if isinstance(item, dict) else ())
        else:
            _check_key_types(r, {key: item}, ["challenge"])
    try:
        return settings_from_table(table, r.source)
    except ChallengeError as exc:
        raise r.fail(["challenge"], exc.message.removeprefix("[challenge]: "), exc.fix) from None


def _check_key_types(r: TableReader, table: Mapping[str, Any], path: list[Any]) -> None:
    for key, value in table.items():
        kind = _NUMBERS.get(key)
        if kind is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise r.fail([*path, key], "must be a number")
        if key in _STRINGS and not isinstance(value, str):
            raise r.fail([*path, key], "must be a string")
