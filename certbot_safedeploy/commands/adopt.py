"""``certbot-safedeploy adopt LINEAGE``: print (or append) the target that protects a service.

It never edits a service's own configuration: it prints the lines to change there.
With ``--write`` the proposal is appended to the safedeploy config atomically,
only if the whole new config parses, and the result is loaded and checked like
any config (root-owned, not group/other writable).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from typing import Mapping

from certbot_safedeploy.commands.output import EXIT_FAILED, EXIT_OK
from certbot_safedeploy.system import fsutil
from certbot_safedeploy.config.load import load_config, parse_config
from certbot_safedeploy.errors import ConfigError, SafeDeployError
from certbot_safedeploy.services.survey import current_pins, reuses_key, survey
from certbot_safedeploy.config.service_presets import PRESETS, Instance
from certbot_safedeploy.services.proposal import Proposal, propose
from certbot_safedeploy.services.readers import read_installed


def proposals_for(lineage: str, config_dir: str, config_path: str, *, service: str | None,
                  system_root: str, locations: Mapping[str, str], connect: str | None) -> list[Proposal]:
    config = None
    if os.path.exists(config_path):
        config = load_config(config_path)
    only = [service] if service else []
    found = survey(config_dir, config, system_root=system_root, locations=locations, only=only, connect=connect)
    proposals = [p for (_, name), p in sorted(found.proposals.items()) if name == lineage]
    if proposals:
        from certbot_safedeploy.doctor.clientuse import client_uses, declare_client_use

        return declare_client_use(proposals, client_uses(system_root, locations, only), config_dir, lineage)
    if not service:
        return proposals
    installed = [s for s in read_installed(system_root, locations, only) if not s.error]
    if not installed:
        raise SafeDeployError(f"{service} is not installed here, or its configuration cannot be read",
                              path=PRESETS[service].config_path(Instance(), system_root),
                              fix=f"point adopt at it with --service-config {service}=PATH")
    return [propose(installed[0], lineage, [], pins=current_pins(config_dir, lineage),
                    reuse_key=reuses_key(config_dir, lineage), connect=connect, system_root=system_root)]


def render(proposals: list[Proposal], lineage: str, config_dir: str, config_path: str) -> list[str]:
    lines: list[str] = []
    for p in proposals:
        lines.append(f"# {p.service}: add to {config_path}")
        lines.append(p.target.rstrip("\n"))
        lines.append("")
    lines.append(f"# then: mkdir -p {' '.join(sorted({p.tls_dir for p in proposals}))}; "
                 f"certbot-safedeploy deploy --lineage {os.path.join(config_dir, 'live', lineage)}")
    for p in proposals:
        if p.changes:
            lines.append(f"# then change in {p.service}'s configuration (adopt never edits it), and reload {p.service}:")
            lines += [f"#   * {c}" for c in p.changes]
    return lines


def append_targets(config_path: str, proposals: list[Proposal]) -> str:
    """Append the proposals' targets atomically; returns the line to print. Raises ConfigError."""
    try:
        existing = fsutil.read_trusted_text(config_path)
        mode = stat.S_IMODE(os.stat(config_path).st_mode)
    except FileNotFoundError:
        existing, mode = "", 0o600
    except OSError as exc:
        raise ConfigError(f"cannot read the config: {exc.strerror}", path=config_path,
                          fix="make it a regular root-owned file") from None
    text = existing + ("\n" if existing and not existing.endswith("\n") else "")
    text += "".join("\n" + p.target for p in proposals)
    parse_config(text, config_path)  # nothing is written unless the whole new config parses
    for p in proposals:
        problem = fsutil.untrusted_ancestor(p.tls_dir)
        if problem:
            raise ConfigError(f"destination {p.tls_dir}: {problem}", path=config_path,
                              fix="point the service's files at a directory only root can change")
    for p in proposals:
        if not os.path.isdir(p.tls_dir):
            os.makedirs(p.tls_dir, mode=0o755)
    fsutil.write_file_atomic(config_path, text.encode("utf-8"), fsutil.FileSpec(mode=mode & 0o7755, uid=0, gid=0))
    load_config(config_path)  # checked like any config: owner, mode, destinations
    return f"appended {len(proposals)} target(s) to {config_path}"


def run(args: argparse.Namespace) -> int:
    from certbot_safedeploy.config.load import config_path

    lineage = os.path.basename(os.path.normpath(args.lineage))
    path = config_path(args.config)
    proposals = proposals_for(lineage, args.config_dir, path, service=args.service, system_root=args.system_root,
                              locations=dict(args.service_config), connect=args.connect)
    if not proposals:
        print(f"no installed service reads {args.config_dir}/live/{lineage}/ or archive/{lineage}/; "
              "name one with --service to get its preset's target", file=sys.stderr)
        return EXIT_FAILED
    for line in render(proposals, lineage, args.config_dir, path):
        print(line)
    if args.write:
        print(append_targets(path, proposals))
    return EXIT_OK
