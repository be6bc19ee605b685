"""Challenge settings shared by the plugin (CLI options) and the hooks ([challenge] table)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

from ..errors import ChallengeError
from .validate import check_domain, normalize_webroot_map

SELF_CHECK_MODES = ("warn", "strict", "off")
UNREACHABLE_MODES = ("fail", "warn")
DEFAULT_PROPAGATION_TIMEOUT = 120.0


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

    def __post_init__(self) -> None:
        if self.self_check not in SELF_CHECK_MODES:
            raise ChallengeError(f"self-check mode {self.self_check!r} is not one of {SELF_CHECK_MODES}")
        if self.unreachable_ns not in UNREACHABLE_MODES:
            raise ChallengeError(f"unreachable-ns {self.unreachable_ns!r} is not one of {UNREACHABLE_MODES}")
        if not 0 < self.http_port < 65536 or (self.dns_port is not None and not 0 < self.dns_port < 65536):
            raise ChallengeError("ports must be between 1 and 65535")
        if not 0 < self.propagation_timeout <= 3600:
            raise ChallengeError("propagation timeout must be between 1 and 3600 seconds")
        if self.webroot is not None and not os.path.isabs(self.webroot):
            raise ChallengeError(f"webroot {self.webroot!r} must be an absolute path")

    def webroot_for(self, domain: str) -> str | None:
        if domain.startswith("*."):
            return None
        return self.webroot_map.get(check_domain(domain), self.webroot)

    @property
    def dns_enabled(self) -> bool:
        return bool(self.nsupdate_server)

    def methods_for(self, domain: str) -> list[str]:
        """Usable challenge types for ``domain``, preferred first."""
        methods = []
        if self.webroot_for(domain):
            methods.append("http-01")
        if self.dns_enabled:
            methods.append("dns-01")
        return methods


TABLE_KEYS = tuple(f.name for f in dataclasses.fields(ChallengeSettings))


def settings_from_table(table: Mapping[str, Any], source: str) -> ChallengeSettings:
    """Build settings from the config's ``[challenge]`` table (hooks)."""
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise ChallengeError(f"[challenge]: unknown key {unknown[0]!r}", path=source,
                             fix=f"allowed: {', '.join(sorted(TABLE_KEYS))}")
    values = dict(table)
    if "webroot_map" in values:
        if not isinstance(values["webroot_map"], dict):
            raise ChallengeError("[challenge].webroot_map must be a table", path=source)
        values["webroot_map"] = normalize_webroot_map(values["webroot_map"])
    types: dict[str, type | tuple[type, ...]] = {
        "http_port": int, "dns_port": int, "propagation_timeout": (int, float)}
    for key, kind in types.items():
        if key in values and (not isinstance(values[key], kind) or isinstance(values[key], bool)):
            raise ChallengeError(f"[challenge].{key} must be a number", path=source)
    for key in ("webroot", "self_check", "self_check_address", "nsupdate_server", "tsig_key", "unreachable_ns"):
        if key in values and not isinstance(values[key], str):
            raise ChallengeError(f"[challenge].{key} must be a string", path=source)
    try:
        return ChallengeSettings(**values)
    except ChallengeError as exc:
        raise ChallengeError(f"[challenge]: {exc.message}", path=source, fix=exc.fix) from None
