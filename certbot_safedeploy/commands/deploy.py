"""``certbot-safedeploy deploy`` (the deploy hook): verify, install, probe; then report.

The exit code is the pipeline's (0 deployed, 1 refused and nothing touched, 3 rolled
back, 4 rollback failed).  Afterwards the status file is written and a failure goes
out through syslog and the config's ``[notify]`` channels.
"""

from __future__ import annotations

import argparse
import os
import sys

from certbot_safedeploy.commands.output import domains_or_renewed
from certbot_safedeploy.errors import SafeDeployError


def run(args: argparse.Namespace) -> int:
    from certbot_safedeploy.config.load import config_path, load_config
    from certbot_safedeploy.deploy.pipeline import REFUSED, USAGE, deploy
    from certbot_safedeploy.report.notify import notify_failure

    lineage = args.lineage or os.environ.get("RENEWED_LINEAGE")
    if not lineage:
        print("error: no lineage: pass --lineage DIR or run as a certbot deploy hook "
              "(RENEWED_LINEAGE)", file=sys.stderr)
        return USAGE
    name = os.path.basename(os.path.normpath(lineage))
    try:
        config = load_config(config_path(args.config))
    except (SafeDeployError, OSError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        notify_failure("deploy", name, f"refused: {exc}")  # syslog only: the config is what failed
        return REFUSED
    result = deploy(config, lineage, domains_or_renewed(None), dry_run=args.dry_run)
    stream = sys.stdout if result.exit_code == 0 else sys.stderr
    for line in result.lines:
        print(line, file=stream)
    if result.targets and not args.dry_run:
        from certbot_safedeploy.report.status import record_deploy

        try:
            record_deploy(config.status, name, result.targets, result.outcome, result.exit_code, result.not_after,
                          facts=result.facts)
        except OSError as exc:
            print(f"warning: cannot write the status file: {exc}", file=sys.stderr)
    if result.exit_code == 0:
        from certbot_safedeploy.system.syslogger import log

        log("info", f"deploy {name}: " + " | ".join(result.lines), config.notify.syslog_facility)
    else:
        notify_failure("deploy", name, f"{result.outcome}: " + " | ".join(result.lines), settings=config.notify,
                       exit_code=result.exit_code, targets=result.targets)
    return result.exit_code
