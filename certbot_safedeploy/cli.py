"""``certbot-safedeploy``: argument parsing and exit codes only.

Subcommands import what they need lazily so that the deploy hook's import path
stays small (no certbot, no requests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from certbot_safedeploy.errors import SafeDeployError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _config_path(arg: str | None) -> str:
    from certbot_safedeploy.config.load import DEFAULT_PATH

    return arg or os.environ.get("SAFEDEPLOY_CONFIG") or DEFAULT_PATH


def _domains(args_domains: Sequence[str] | None) -> list[str]:
    if args_domains:
        return list(args_domains)
    return os.environ.get("RENEWED_DOMAINS", "").split()


def _verify_connect(args: argparse.Namespace) -> int:
    from certbot_safedeploy.deploy.connectcheck import UsageError, check_connect, target

    try:
        probe = target(args.connect, args.servername, args.starttls, args.timeout)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rep = check_connect(probe, args.trust_anchor)
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2))
    else:
        _print_findings(rep.findings, rep.where, rep.ok, args.verbose)
    return EXIT_OK if rep.ok else EXIT_FAILED


def _print_findings(findings: Sequence[Any], subject: str, ok: bool, verbose: bool) -> None:
    """One line per finding (passed checks with -v), then the verdict line."""
    for finding in findings:
        if finding.severity.value != "ok" or verbose:
            print(finding.line())
    errors = sum(f.severity.value == "error" for f in findings)
    warnings = sum(f.severity.value == "warning" for f in findings)
    print(f"{subject}: {'OK' if ok else 'FAILED'} ({errors} error(s), {warnings} warning(s))")


def cmd_verify(args: argparse.Namespace) -> int:
    modes = [m for m, given in (("a lineage directory", args.lineage_dir), ("--cert", args.cert),
                                 ("--connect", args.connect)) if given]
    if len(modes) != 1:
        print("error: verify takes one of: a lineage directory (live/<name>/), --cert FILE "
              "[--chain FILE], or --connect HOST:PORT" + (f" (given: {', '.join(modes)})" if modes else ""),
              file=sys.stderr)
        return EXIT_USAGE
    if args.chain and not args.cert:
        print("error: --chain needs --cert", file=sys.stderr)
        return EXIT_USAGE
    if args.connect:
        return _verify_connect(args)
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.material.trust import load_trust_store
    from certbot_safedeploy.verify.lineagecheck import verify_lineage
    from certbot_safedeploy.verify.pinformat import PinFormatError, normalize_pin

    try:
        pin_set = [normalize_pin(p) for p in args.pin]
    except PinFormatError as exc:
        print(f"error: --pin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    trust = load_trust_store(args.trust_anchor)
    if args.cert:
        from certbot_safedeploy.material.certfiles import verify_files

        report = verify_files(args.cert, args.chain, trust=trust, domains=args.domain or [],
                              pin_set=pin_set)
        subject = args.cert
    else:
        report, _ = verify_lineage(read_lineage(args.lineage_dir), trust=trust,
                                   domains=_domains(args.domain), pin_set=pin_set)
        subject = args.lineage_dir
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        if args.verbose and report.engine:
            print(f"engine: {report.engine} decided trust")
        _print_findings(report.findings, subject, report.ok, args.verbose)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_pins(args: argparse.Namespace) -> int:
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


def cmd_deploy(args: argparse.Namespace) -> int:
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy.pipeline import REFUSED, USAGE, deploy

    lineage = args.lineage or os.environ.get("RENEWED_LINEAGE")
    if not lineage:
        print("error: no lineage: pass --lineage DIR or run as a certbot deploy hook "
              "(RENEWED_LINEAGE)", file=sys.stderr)
        return USAGE
    path = _config_path(args.config)
    name = os.path.basename(os.path.normpath(lineage))
    try:
        config = load_config(path)
    except (SafeDeployError, OSError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        _notify("deploy", name, f"refused: {exc}", path, table={})  # syslog only: the config is what failed
        return REFUSED
    result = deploy(config, lineage, _domains(None), dry_run=args.dry_run)
    stream = sys.stdout if result.exit_code == 0 else sys.stderr
    for line in result.lines:
        print(line, file=stream)
    if result.targets and not args.dry_run:
        from certbot_safedeploy.report.status import record_deploy

        try:
            record_deploy(config.raw_sections.get("status"), name, result.targets, result.outcome,
                          result.exit_code, result.not_after)
        except OSError as exc:
            print(f"warning: cannot write the status file: {exc}", file=sys.stderr)
    if result.exit_code == 0:
        from certbot_safedeploy.system.syslogger import log

        facility = str(config.raw_sections.get("notify", {}).get("syslog_facility", "daemon"))
        log("info", f"deploy {name}: " + " | ".join(result.lines), facility)
    else:
        _notify("deploy", name, f"{result.outcome}: " + " | ".join(result.lines), path,
                table=config.raw_sections.get("notify", {}), exit_code=result.exit_code, targets=result.targets)
    return result.exit_code


def _notify(step: str, subject: str, message: str, config_path: str, *,
            table: Any = None, **extra: object) -> None:
    """Report a failure on every channel; never changes the exit code."""
    from certbot_safedeploy.report.notify import notify_failure

    notify_failure(step, subject, message, config_path, table=table, **extra)


def cmd_recover(args: argparse.Namespace) -> int:
    """The boot step (systemd/certbot-safedeploy-recover.service)."""
    if args.print_unit:
        import shlex

        from certbot_safedeploy.deploy.bootunit import render

        print(render(f"{shlex.quote(sys.executable)} -m certbot_safedeploy", _config_path(args.config)), end="")
        return EXIT_OK
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy.pipeline import recover_all

    try:
        config = load_config(_config_path(args.config))
    except (SafeDeployError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    lines, ok = recover_all(config)
    for line in lines:
        print(line, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED


def cmd_doctor(args: argparse.Namespace) -> int:
    from certbot_safedeploy.doctor.run import run_doctor

    rep = run_doctor(args.config_dir, _config_path(args.config), system_root=args.system_root, live=args.live,
                     service_configs=dict(args.service_config))
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2))
    else:
        for finding in rep.findings:
            print(finding.line())
        print(f"doctor: {len(rep.errors)} error(s), {len(rep.warnings)} warning(s)")
    return EXIT_OK if rep.ok else EXIT_FAILED


def cmd_adopt(args: argparse.Namespace) -> int:
    from certbot_safedeploy.commands.adopt import append_targets, proposals_for, render

    lineage = os.path.basename(os.path.normpath(args.lineage))
    path = _config_path(args.config)
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


def _service_config(text: str) -> tuple[str, str]:
    from certbot_safedeploy.config.service_presets import PRESETS

    name, sep, path = text.partition("=")
    if not sep or name not in PRESETS or not os.path.isabs(path):
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=/absolute/path, NAME one of {', '.join(PRESETS)}")
    return name, path


def _add_service_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service-config", action="append", default=[], type=_service_config, metavar="NAME=PATH",
                   help="read this service's configuration from PATH instead of its Debian location")


def cmd_install(args: argparse.Namespace) -> int:
    from certbot_safedeploy.commands.install import install

    lines, ok = install(args.config_dir, _config_path(args.config),
                        ari_units_dir=args.units_dir if args.ari else None)
    for line in lines:
        print(line)
    return EXIT_OK if ok else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certbot-safedeploy",
                                     description="Verify and safely deploy certbot certificates.")
    sub = parser.add_subparsers(dest="command", required=True)

    from certbot_safedeploy.config.load import STARTTLS_PORTS

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
    p.add_argument("--json", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="also list passed checks")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("pins", help="print sha256/ SPKI pins of certs, keys and CSRs")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_pins)

    p = sub.add_parser("deploy", help="verify and install a renewed lineage (deploy hook)")
    p.add_argument("--config", help="TOML config (default: $SAFEDEPLOY_CONFIG or "
                   "/etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--lineage", help="live/<name>/ directory (default: $RENEWED_LINEAGE)")
    p.add_argument("--dry-run", action="store_true", help="verify and print the plan only")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("recover", help="boot step: complete or undo installs a crash interrupted")
    p.add_argument("--config", help="safedeploy TOML (default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--print-unit", action="store_true",
                   help="print the systemd unit that runs this step at boot, for this installation")
    p.set_defaults(func=cmd_recover)

    p = sub.add_parser("doctor", help="find renewals that will fail, before they do")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help="safedeploy TOML (default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--live", action="store_true", help="also try each webroot and nsupdate server")
    p.add_argument("--json", action="store_true")
    p.add_argument("--system-root", default="/", help=argparse.SUPPRESS)  # tests: where /etc/cron.d etc. live
    _add_service_options(p)
    p.set_defaults(func=cmd_doctor)

    from certbot_safedeploy.config.service_presets import PRESETS

    p = sub.add_parser("adopt", help="propose the [[target]] that puts a service reading live/ behind the gate")
    p.add_argument("lineage", help="certificate name (or its live/NAME directory)")
    p.add_argument("--service", choices=sorted(PRESETS), help="only this service (default: every one found)")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help="safedeploy TOML (default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--connect", metavar="HOST:PORT", help="where the probe connects (default: the preset's port)")
    p.add_argument("--write", action="store_true", help="append the target(s) to the config")
    p.add_argument("--system-root", default="/", help=argparse.SUPPRESS)
    _add_service_options(p)
    p.set_defaults(func=cmd_adopt)

    p = sub.add_parser("install", help="install the deploy and manual hooks; check the config")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help="safedeploy TOML (default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--ari", action="store_true", help="also write the ARI timer and service (not enabled)")
    p.add_argument("--units-dir", default="/etc/systemd/system", help="where --ari writes the units")
    p.set_defaults(func=cmd_install)

    from certbot_safedeploy.commands.fleet import add_parser as add_fleet_parser

    add_fleet_parser(sub)
    from certbot_safedeploy.commands.ari import add_parser as add_ari_parser

    add_ari_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SafeDeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
