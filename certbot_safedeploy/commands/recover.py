"""``certbot-safedeploy recover``: the boot step that completes or undoes installs a crash interrupted."""

from __future__ import annotations

import argparse
import sys

from certbot_safedeploy.commands.output import EXIT_FAILED, EXIT_OK
from certbot_safedeploy.errors import SafeDeployError


def run(args: argparse.Namespace) -> int:
    """systemd/certbot-safedeploy-recover.service runs this."""
    from certbot_safedeploy.config.load import config_path

    if args.print_unit:
        import shlex

        from certbot_safedeploy.deploy.bootunit import render

        print(render(f"{shlex.quote(sys.executable)} -m certbot_safedeploy", config_path(args.config)), end="")
        return EXIT_OK
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy.pipeline import recover_all

    try:
        config = load_config(config_path(args.config))
    except (SafeDeployError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lines, ok = recover_all(config)
    for line in lines:
        print(line, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED
