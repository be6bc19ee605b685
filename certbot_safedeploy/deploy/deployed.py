"""What a target serves now, and how its service uses it (I/O: reads the target's files and config).

The comparison (:mod:`certbot_safedeploy.verify.changes`) needs the leaf currently
installed in the target's *own* files (not ``live/``, which certbot has already
swapped) and the service settings that use those files.  Reads never follow a
symlink and stop at 1 MiB; an unreadable or absent file means "nothing deployed yet".
"""

from __future__ import annotations

import os
import re

from cryptography import x509

from certbot_safedeploy.config.target_section import Target
from certbot_safedeploy.verify.changes import Setting, TargetContext
from certbot_safedeploy.verify.leaffacts import LeafFacts, leaf_facts

LIMIT = 1 << 20
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.S)


def _read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read(LIMIT)
    except OSError:
        return None


def _certificates(data: bytes | None) -> list[x509.Certificate]:
    out = []
    for block in _PEM.findall(data or b""):
        try:
            out.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            return out
    return out


def read_certificates(path: str) -> list[x509.Certificate]:
    """The PEM certificates in ``path`` (not followed if a symlink); [] when unreadable."""
    return _certificates(_read(path))


def leaf_file(target: Target) -> str:
    """The target's file that starts with the leaf (cert or fullchain first); "" when none does."""
    for f in target.files:
        if f.content[0] in ("cert", "fullchain"):
            return f.path
    return ""


def deployed_facts(target: Target) -> tuple[str, LeafFacts | None]:
    """(the file read, the facts of the leaf and chain installed there; None when none is)."""
    path = leaf_file(target)
    certs = _certificates(_read(path)) if path else []
    if not certs:
        return path, None
    chain = certs[1:]
    if not chain:
        chain_file = next((f.path for f in target.files if f.content[0] == "chain"), "")
        chain = _certificates(_read(chain_file)) if chain_file else []
    try:
        return path, leaf_facts(certs[0], chain)
    except Exception:  # noqa: BLE001 - a hostile deployed file: compare as if nothing were there
        return path, None


def _service_settings(target: Target) -> tuple[list[Setting], list[Setting], list[Setting]]:
    """(client settings, stapling settings, names) of the target's service that concern its files."""
    if not target.service:
        return [], [], []
    from certbot_safedeploy.config.service_presets import PRESETS, Instance
    from certbot_safedeploy.services.usereaders import read_uses
    from certbot_safedeploy.services.uses import CERT, CLIENT, NAME, STAPLE

    config = target.service_config or PRESETS[target.service].config_path(Instance())
    uses, _ = read_uses(target.service, config)
    paths = {f.path for f in target.files}
    scopes = {u.scope for u in uses if u.kind == CERT and u.value in paths}
    client = [Setting(u.service, u.setting, u.where, u.value) for u in uses if u.kind == CLIENT and u.value in paths]
    staple = [Setting(u.service, u.setting, u.where, u.value) for u in uses
              if u.kind == STAPLE and scopes and (u.scope in scopes or u.scope == "")]
    names = [Setting(u.service, u.setting, u.where, u.value) for u in uses
             if u.kind == NAME and u.scope and u.scope in scopes]
    return client, staple, names


def target_context(target: Target, deployed_file: str, config_source: str, *, read_service: bool) -> TargetContext:
    client: list[Setting] = []
    staple: list[Setting] = []
    names: list[Setting] = []
    if read_service:
        try:
            client, staple, names = _service_settings(target)
        except Exception:  # noqa: BLE001 - a hostile service config: judge by the declared uses only
            client, staple, names = [], [], []
    if target.probe is not None:
        names.append(Setting("target", "probe.servername", config_source, target.probe.servername.lower()))
    return TargetContext(target=target.name, lineage=target.lineage, deployed_file=deployed_file or target.name,
                         uses=target.uses, key_types=target.key_types, pins=target.pins,
                         client_settings=tuple(client), staple_settings=tuple(staple), listed_names=tuple(names))
