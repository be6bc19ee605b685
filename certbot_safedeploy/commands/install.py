"""``certbot-safedeploy install``: put the hooks where certbot runs them (idempotent)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from certbot_safedeploy.commands.output import EXIT_FAILED, EXIT_OK
from certbot_safedeploy.system import fsutil
from certbot_safedeploy.config.load import load_config
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.commands.hookscripts import render


def _place(path: str, text: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text and (os.stat(path).st_mode & 0o777) == 0o755:
                return f"unchanged {path}"
    except FileNotFoundError:
        pass
    fsutil.make_private_dir(os.path.dirname(path), mode=0o755)
    fsutil.write_file_atomic(path, text.encode(), fsutil.FileSpec(mode=0o755, uid=0, gid=0))
    return f"installed {path}"


def install(config_dir: str, config_path: str, python: str = sys.executable, *,
            ari_units_dir: str | None = None) -> tuple[list[str], bool]:
    """Install the three hooks (and, with ``ari_units_dir``, the ARI timer, not enabled); check the config.
    Returns (lines, ok)."""
    lines = [
        _place(os.path.join(config_dir, "renewal-hooks", "deploy", "50-safedeploy"), render("deploy", python)),
        _place(os.path.join(config_dir, "safedeploy", "manual-auth"), render("manual-auth", python)),
        _place(os.path.join(config_dir, "safedeploy", "manual-cleanup"), render("manual-cleanup", python)),
    ]
    if ari_units_dir is not None:
        from certbot_safedeploy.ari.timer import write_units

        lines.extend(write_units(ari_units_dir, config_path, f"{shlex.quote(python)} -m certbot_safedeploy"))
    ok = True
    if os.path.exists(config_path):
        try:
            config = load_config(config_path)
            lines.append(f"config {config_path}: OK ({len(config.targets)} target(s))")
        except (SafeDeployError, OSError) as exc:
            lines.append(f"config {config_path}: ERROR: {exc}")
            ok = False
    else:
        lines.append(f"config {config_path} does not exist yet: deploys are a logged no-op until it does "
                     "(see docs/deploy.rst, or man certbot-safedeploy)")
    auth, cleanup = (os.path.join(config_dir, "safedeploy", n) for n in ("manual-auth", "manual-cleanup"))
    lines.append(f"manual certificates: --manual-auth-hook {auth} --manual-cleanup-hook {cleanup}")
    return lines, ok


def run(args: argparse.Namespace) -> int:
    from certbot_safedeploy.config.load import config_path

    lines, ok = install(args.config_dir, config_path(args.config),
                        ari_units_dir=args.units_dir if args.ari else None)
    for line in lines:
        print(line)
    return EXIT_OK if ok else EXIT_FAILED
