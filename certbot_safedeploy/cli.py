"""``certbot-safedeploy``: the argument parser and the dispatch to :mod:`certbot_safedeploy.commands`.

Each subcommand's body is a module of its own, imported only when that subcommand
runs, so that the deploy hook's import path stays small (no certbot, no requests).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from certbot_safedeploy.errors import SafeDeployError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_CONFIG_HELP = "safedeploy TOML (default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)"


def _service_config(text: str) -> tuple[str, str]:
    from certbot_safedeploy.config.service_presets import PRESETS

    name, sep, path = text.partition("=")
    if not sep or name not in PRESETS or not os.path.isabs(path):
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=/absolute/path, NAME one of {', '.join(PRESETS)}")
    return name, path


def _add_service_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service-config", action="append", default=[], type=_service_config, metavar="NAME=PATH",
                   help="read this service's configuration from PATH instead of its Debian location")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certbot-safedeploy",
                                     description="Verify and safely deploy certbot certificates.")
    sub = parser.add_subparsers(dest="command", required=True)
    from certbot_safedeploy.config.service_presets import PRESETS
    from certbot_safedeploy.config.target_section import STARTTLS_PORTS

    p = sub.add_parser("verify", help="check a certbot live/<name>/ lineage, --cert/--chain files, "
                       "or what a running service sends (--connect)")
    p.add_argument("lineage_dir", nargs="?")
    p.add_argument("--cert", help="a leaf certificate PEM to check without a lineage or key")
    p.add_argument("--chain", help="with --cert: the intermediates, judged as a pool like a client does")
    p.add_argument("--connect", metavar="HOST:PORT",
                   help="check the certificate and chain a running service sends, as a client would")
    p.add_argument("--servername", metavar="NAME", help="with --connect: SNI and the name to validate "
                   "(default: HOST)")
    p.add_argument("--starttls", choices=list(STARTTLS_PORTS),
                   help="with --connect: speak this protocol's STARTTLS first (default port: its usual one)")
    p.add_argument("--timeout", type=float, default=10.0, help="with --connect: seconds per network step")
    p.add_argument("--domain", action="append", help="name the cert must cover "
                   "(default: $RENEWED_DOMAINS)")
    p.add_argument("--pin", action="append", default=[], help="sha256/BASE64 SPKI pin")
    p.add_argument("--trust-anchor", action="append", default=[],
                   help="PEM file of trusted roots (default: the system bundle)")
    p.add_argument("--partial-chain-anchor", action="append", default=[], metavar="FILE",
                   help="PEM file of certificates that anchor a path although they are not self-signed "
                   "(an intermediate trusted on purpose, as openssl verify -partial_chain)")
    p.add_argument("--crl", metavar="FILE", help="a CRL (DER or PEM) to check the leaf against "
                   "(RFC 5280 §6.3): revoked is an error, an unusable CRL a warning")
    p.add_argument("--json", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="also list passed checks")
    p.set_defaults(command_module="verify")

    p = sub.add_parser("pins", help="print sha256/ SPKI pins of certs, keys and CSRs")
    p.add_argument("files", nargs="+")
    p.set_defaults(command_module="pins")

    p = sub.add_parser("deploy", help="verify and install a renewed lineage (deploy hook)")
    p.add_argument("--config", help="TOML config (default: $SAFEDEPLOY_CONFIG or "
                   "/etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--lineage", help="live/<name>/ directory (default: $RENEWED_LINEAGE)")
    p.add_argument("--dry-run", action="store_true", help="verify and print the plan only")
    p.set_defaults(command_module="deploy")

    p = sub.add_parser("recover", help="boot step: complete or undo installs a crash interrupted")
    p.add_argument("--config", help=_CONFIG_HELP)
    p.add_argument("--print-unit", action="store_true",
                   help="print the systemd unit that runs this step at boot, for this installation")
    p.set_defaults(command_module="recover")

    p = sub.add_parser("doctor", help="find renewals that will fail, before they do")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help=_CONFIG_HELP)
    p.add_argument("--live", action="store_true", help="also try each webroot and nsupdate server")
    p.add_argument("--json", action="store_true")
    p.add_argument("--system-root", default="/", help=argparse.SUPPRESS)  # tests: where /etc/cron.d etc. live
    _add_service_options(p)
    p.set_defaults(command_module="doctor")

    p = sub.add_parser("adopt", help="propose the [[target]] that puts a service reading live/ behind the gate")
    p.add_argument("lineage", help="certificate name (or its live/NAME directory)")
    p.add_argument("--service", choices=sorted(PRESETS), help="only this service (default: every one found)")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help=_CONFIG_HELP)
    p.add_argument("--connect", metavar="HOST:PORT", help="where the probe connects (default: the preset's port)")
    p.add_argument("--write", action="store_true", help="append the target(s) to the config")
    p.add_argument("--system-root", default="/", help=argparse.SUPPRESS)
    _add_service_options(p)
    p.set_defaults(command_module="adopt")

    p = sub.add_parser("install", help="install the deploy and manual hooks; check the config")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help=_CONFIG_HELP)
    p.add_argument("--ari", action="store_true", help="also write the ARI timer and service (not enabled)")
    p.add_argument("--units-dir", default="/etc/systemd/system", help="where --ari writes the units")
    p.set_defaults(command_module="install")

    from certbot_safedeploy.commands.fleet import add_parser as add_fleet_parser

    add_fleet_parser(sub)
    from certbot_safedeploy.commands.ari import add_parser as add_ari_parser

    add_ari_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "func"):  # fleet subcommands carry their function
            return int(args.func(args))
        module = importlib.import_module(f"certbot_safedeploy.commands.{args.command_module}")
        return int(module.run(args))
    except SafeDeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
