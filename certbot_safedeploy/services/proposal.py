"""The live/ trap: which service reads certbot's files directly, and the target that fixes it (pure).

certbot swaps ``live/NAME`` before any deploy hook runs, so a service reading
``live/`` or ``archive/`` gets a broken renewal at its next reload whatever the
gate decides.  :func:`classify` sorts each reference a service makes into
trapped (under live/ or archive/), protected (a file a target installs) or
neither; :func:`propose` writes the ``[[target]]`` that moves the service onto
files the gate installs, and the lines to change in the service's own config.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Mapping, Sequence

from certbot_safedeploy.services.parse import Reference
from certbot_safedeploy.config.service_presets import PRESETS, Instance
from certbot_safedeploy.services.readers import ServiceConfig


@dataclasses.dataclass(frozen=True)
class Trapped:
    reference: Reference
    lineage: str  # live/<lineage>/ or archive/<lineage>/
    area: str  # "live" or "archive"


def trapped_lineage(path: str, config_dirs: Sequence[str]) -> tuple[str, str] | None:
    """(lineage, "live"|"archive") when ``path`` lies under a certbot config dir's live/ or archive/."""
    norm = os.path.normpath(path)
    for base in config_dirs:
        for area in ("live", "archive"):
            prefix = os.path.join(os.path.normpath(base), area) + "/"
            if norm.startswith(prefix):
                return norm[len(prefix):].split("/", 1)[0], area
    return None


def classify(service: ServiceConfig, config_dirs: Sequence[str],
             destinations: Mapping[str, str]) -> tuple[list[Trapped], list[tuple[Reference, str]]]:
    """(trapped references, (protected reference, target name)); ``destinations`` maps path -> target."""
    trapped, protected = [], []
    for ref in service.references:
        hit = trapped_lineage(ref.path, config_dirs)
        if hit:
            trapped.append(Trapped(ref, *hit))
        elif os.path.normpath(ref.path) in destinations:
            protected.append((ref, destinations[os.path.normpath(ref.path)]))
    return trapped, protected


@dataclasses.dataclass(frozen=True)
class Proposal:
    service: str
    lineage: str
    target: str  # TOML text of one [[target]]
    changes: tuple[str, ...]  # lines to change in the service's own configuration
    tls_dir: str


def _toml(value: object) -> str:
    return json.dumps(value)  # a JSON string or array of strings is valid TOML


def target_name(service: str, lineage: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]", "-", f"{service}-{lineage}")[:128]


def _files(service: str, tls_dir: str, trapped: Sequence[Trapped]) -> dict[str, tuple[str, ...]]:
    """Destination -> parts, one per part the service reads (haproxy: one combined file)."""
    preset = PRESETS[service]
    if preset.files[0][1] == ("fullchain", "privkey"):
        name, parts = preset.files[0]
        return {os.path.join(tls_dir, name): parts}
    if not trapped:  # nothing found: the preset's usual layout
        return {os.path.join(tls_dir, name): parts for name, parts in preset.files}
    files: dict[str, tuple[str, ...]] = {}
    for t in trapped:
        files[os.path.join(tls_dir, f"{_part(t.reference)}.pem")] = (_part(t.reference),)
    return files


def _part(ref: Reference) -> str:
    return ref.part or ("privkey" if "key" in ref.setting.lower() else "fullchain")


def _change(service: str, ref: Reference, new: str, config: str) -> str:
    if service == "postfix":
        return f"postconf -c {config} -e '{ref.setting.rsplit('/', 1)[-1]} = {new}'   # {ref.where}"
    if service == "dovecot" and ref.setting.endswith("_file"):  # Dovecot 2.4: the path itself
        return f"{ref.where}: {ref.setting} = {new}   # was {ref.path}"
    if service == "dovecot":
        return f"{ref.where}: {ref.setting} = <{new}   # was <{ref.path}"
    if service == "postgresql":
        return f"{ref.where}: {ref.setting} = '{new}'   # was '{ref.path}'"
    if service == "slapd":
        return f"{ref.where}: {ref.setting}: {new}   # was {ref.path} (ldapmodify -Y EXTERNAL -H ldapi:///)"
    return f"{ref.where}: {ref.setting} {new}   # was {ref.path}"


def propose(service: ServiceConfig, lineage: str, trapped: Sequence[Trapped], *, pins: Sequence[str],
            reuse_key: bool, connect: str | None = None, system_root: str = "/") -> Proposal:
    preset = PRESETS[service.service]
    instance = Instance(None if service.default else service.config,
                        None if service.default else service.pidfile)
    tls_dir = preset.tls_dir(instance, lineage, system_root)
    files = _files(service.service, tls_dir, trapped)
    lines = ["[[target]]", f"name = {_toml(target_name(service.service, lineage))}",
             f"lineage = {_toml(lineage)}"]
    if service.default:
        lines.append(f"service = {_toml(service.service)}")
    else:
        extra = f", pidfile = {_toml(instance.pidfile)}" if instance.pidfile else ""
        lines.append(f"service = {{ name = {_toml(service.service)}, config = {_toml(service.config)}{extra} }}")
    probe = preset.probe_table(lineage)
    if connect:
        probe["connect"] = connect
    lines.append("probe = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in probe.items()) + " }")
    if preset.key_reader:
        lines.append(f"acl_read = {_toml([preset.key_reader])}  # {service.service} runs as {preset.key_reader}")
    backup = ("# RFC 7469 §4.3: also pin a backup key that is not in this chain (a spare key kept offline;"
              " certbot-safedeploy pins spare.key), so a key compromise does not lock you out")
    if pins and reuse_key:
        lines += [f"pins = {_toml(list(pins))}  # the current key (this lineage reuses its key)", backup]
    elif pins:
        lines += [f"# pins = {_toml(list(pins))}  # the current key: certbot makes a new key at each renewal",
                  f"#   of {lineage} (no reuse_key), so this pin would refuse the next renewal; pin after",
                  f"#   certbot reconfigure --cert-name {lineage} --reuse-key", backup]
    lines.append("files = [")
    lines += [f"  {{ path = {_toml(path)}, content = {_toml(list(parts))} }}," for path, parts in files.items()]
    lines.append("]")
    by_part = {parts[0]: path for path, parts in files.items()}
    combined = next(iter(files)) if len(files) == 1 and len(next(iter(files.values()))) > 1 else None
    changes = tuple(_change(service.service, t.reference, combined or by_part[_part(t.reference)],
                            service.config) for t in trapped)
    return Proposal(service.service, lineage, "\n".join(lines) + "\n", changes, tls_dir)
