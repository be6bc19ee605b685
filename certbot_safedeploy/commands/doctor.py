"""``certbot-safedeploy doctor``: find renewals that will fail, before they do."""

from __future__ import annotations

import argparse
import json

from certbot_safedeploy.commands.output import EXIT_FAILED, EXIT_OK


def run(args: argparse.Namespace) -> int:
    from certbot_safedeploy.config.load import config_path
    from certbot_safedeploy.doctor.run import run_doctor

    rep = run_doctor(args.config_dir, config_path(args.config), system_root=args.system_root, live=args.live,
                     service_configs=dict(args.service_config))
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2))
    else:
        for finding in rep.findings:
            print(finding.line())
        print(f"doctor: {len(rep.errors)} error(s), {len(rep.warnings)} warning(s)")
    return EXIT_OK if rep.ok else EXIT_FAILED
