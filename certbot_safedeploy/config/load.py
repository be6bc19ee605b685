"""Find, read and check the TOML configuration (``/etc/letsencrypt/safedeploy.toml``).

:func:`parse_config` is pure: text in, a typed :class:`~certbot_safedeploy.config.model.Config`
out, each section parsed by the module that owns its schema and every error naming
file, line and key.  :func:`load_config` adds the file-system checks: a config that
names commands run as root must be owned by root and not writable by group or
others, and no destination may sit behind a symlink someone else controls.
:func:`config_path` is the one rule for where the file is.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Collection, Mapping

from certbot_safedeploy.config import challenge_section, fleet_section, report_sections, target_section
from certbot_safedeploy.config.challenge_section import ChallengeSettings, parse_challenge, settings_from_table
from certbot_safedeploy.config.fleet_section import parse_fleet
from certbot_safedeploy.config.model import DEFAULT_PATH, DEFAULT_STATE_DIR, Config
from certbot_safedeploy.config.reader import TableReader, parse_toml
from certbot_safedeploy.config.report_sections import parse_notify, parse_status
from certbot_safedeploy.config.target_section import parse_targets
from certbot_safedeploy.errors import ChallengeError, ConfigError
from certbot_safedeploy.system import fsutil

__all__ = ["DEFAULT_PATH", "DEFAULT_STATE_DIR", "Config", "config_path", "parse_config", "load_config",
           "check_key_paths", "challenge_settings_from_file", "load_plugin_config", "TOP_LEVEL", "SECTIONS", "schema"]

TOP_LEVEL = ("trust_anchors", "backups", "state_dir", "target", "challenge", "notify", "status", "fleet")
SECTIONS = ("target", "challenge", "notify", "status", "fleet")


def schema() -> dict[str, tuple[str, ...]]:
    """Every table of the config and the keys it takes, from the section modules that parse them."""
    return {
        "": TOP_LEVEL,
        "target": target_section.TARGET_KEYS,
        "target.files": target_section.FILE_KEYS,
        "target.probe": target_section.PROBE_KEYS,
        "target.service": target_section.SERVICE_KEYS,
        "challenge": challenge_section.TABLE_KEYS,
        "challenge.zone": challenge_section.ZONE_KEYS,
        "notify": report_sections.NOTIFY_KEYS,
        "notify.mail": report_sections.MAIL_KEYS,
        "status": report_sections.STATUS_KEYS,
        "fleet": fleet_section.KEYS,
    }


def config_path(arg: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The config to read: the argument, else ``$SAFEDEPLOY_CONFIG``, else the default path."""
    return arg or environ.get("SAFEDEPLOY_CONFIG") or DEFAULT_PATH


def parse_config(text: str, source: str = "<config>", *, sections: Collection[str] = SECTIONS) -> Config:
    """Parse and validate ``text``; raises :class:`ConfigError` with file, line and key.

    ``sections`` limits which tables are parsed (the plugin reads ``challenge`` and
    ``notify`` only); the others must still be known top-level keys."""
    data = parse_toml(text, source)
    r = TableReader(text, source)
    r.table(data, [], TOP_LEVEL)
    anchors = tuple(r.abspath(a, ["trust_anchors", i])
                    for i, a in enumerate(r.strings(data.get("trust_anchors", []), ["trust_anchors"])))
    backups = int(r.number(data.get("backups", 3), ["backups"], 0, 100, whole=True))
    state_dir = r.abspath(data.get("state_dir", DEFAULT_STATE_DIR), ["state_dir"])
    values: dict[str, Any] = {}
    if "target" in sections:
        values["targets"] = parse_targets(r, data.get("target", []))
    if "notify" in sections and "notify" in data:
        values["notify"] = parse_notify(r, data["notify"])
    if "challenge" in sections and "challenge" in data:
        values["challenge"] = parse_challenge(r, data["challenge"])
    if "fleet" in sections and "fleet" in data:
        values["fleet"] = parse_fleet(r, data["fleet"], state_dir)
    if "status" in sections:
        values["status"] = parse_status(r, data.get("status", {}), state_dir)
    return Config(source, anchors, backups, state_dir, **values)


def _read(path: str) -> str:
    try:
        return fsutil.read_trusted_text(path)
    except FileNotFoundError:
        raise ConfigError("config file does not exist", path=path,
                          fix="create it (see man certbot-safedeploy, or docs/reference/config.rst) or set SAFEDEPLOY_CONFIG") from None
    except OSError as exc:
        if os.path.islink(path):
            raise ConfigError("config is a symlink; refusing to follow it", path=path,
                              fix=f"point SAFEDEPLOY_CONFIG / --config at the real file ({os.path.realpath(path)})") from None
        raise ConfigError(f"cannot read the config: {exc.strerror}", path=path,
                          fix="make it a regular file readable by root") from None


def load_config(path: str, *, sections: Collection[str] = SECTIONS) -> Config:
    """Read, check ownership and paths, and parse the config at ``path``."""
    config = parse_config(_read(path), path, sections=sections)
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


def check_key_paths(settings: ChallengeSettings, source: str = "") -> None:
    """Every TSIG key file: absolute, owned by root (or us), not writable by group or others.

    A key that others can replace lets them choose what we sign; one they can
    read lets them update the zone (that is a warning in :func:`load_tsig_key`).
    """
    require_root = os.geteuid() == 0
    if source and settings.key_paths() and os.path.isabs(source):
        problem = fsutil.unsafe_ownership(source, require_root=require_root)
        if problem:
            raise ChallengeError(f"names TSIG keys, but {problem}", path=source,
                                 fix=f"chown root:root {source} && chmod go-w {source}")
    for path in settings.key_paths():
        try:
            problem = fsutil.unsafe_ownership(path, require_root=require_root)
        except FileNotFoundError:
            raise ChallengeError("the TSIG key file does not exist", path=path,
                                 fix=f"create it with tsig-keygen, or fix tsig_key in {source or 'the options'}") from None
        if problem:
            raise ChallengeError(f"unsafe TSIG key file: {problem}", path=path,
                                 fix=f"chown root:root {path} && chmod 0600 {path}")


def load_plugin_config(path: str, overrides: Mapping[str, Any]) -> tuple[ChallengeSettings, Config]:
    """The plugin's view of the config at ``path``: ``[challenge]`` (with ``overrides`` on top) and
    ``[notify]``; no other table is parsed, so an authenticator never reads ``[fleet]``."""
    if not os.path.isabs(path):
        raise ChallengeError(f"--safedeploy-config {path!r} must be an absolute path")
    config = load_config(path, sections=("challenge", "notify"))
    base = config.challenge or ChallengeSettings()
    settings = settings_from_table({}, path, {**_as_values(base), **overrides}) if overrides else base
    check_key_paths(settings, path)
    return settings, config


def challenge_settings_from_file(path: str, overrides: Mapping[str, Any]) -> ChallengeSettings:
    """The ``[challenge]`` settings of the config at ``path``, with ``overrides`` on top."""
    return load_plugin_config(path, overrides)[0]


def _as_values(settings: ChallengeSettings) -> dict[str, Any]:
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
