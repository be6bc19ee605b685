"""``certbot-safedeploy pins FILE...``: the RFC 7469 ``sha256/`` SPKI pins of certificates, keys and CSRs."""

from __future__ import annotations

import argparse
import sys

from certbot_safedeploy.commands.output import EXIT_FAILED, EXIT_OK
from certbot_safedeploy.errors import SafeDeployError


def run(args: argparse.Namespace) -> int:
    from certbot_safedeploy.material.keyfiles import pins_of_file

    status = EXIT_OK
    for path in args.files:
        try:
            for pin, what in pins_of_file(path):
                print(f"{pin}  {path}  ({what})")
        except SafeDeployError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_FAILED
    return status
