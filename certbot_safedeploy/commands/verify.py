"""``certbot-safedeploy verify``: a lineage, ``--cert``/``--chain`` files, or ``--connect HOST:PORT``."""

from __future__ import annotations

import argparse
import json
import os

from certbot_safedeploy.commands.output import (
    EXIT_FAILED,
    EXIT_OK,
    domains_or_renewed,
    print_findings,
    usage_error,
)

# the clients the test suite cross-checks verdicts against (tests/oracle); never set at run time
CHECKED_AGAINST_ENV = "SAFEDEPLOY_CHECKED_AGAINST"


def _verify_connect(args: argparse.Namespace) -> int:
    from certbot_safedeploy.deploy.connectcheck import UsageError, check_connect, target

    try:
        probe = target(args.connect, args.servername, args.starttls, args.timeout)
    except UsageError as exc:
        return usage_error(str(exc))
    rep = check_connect(probe, args.trust_anchor)
    if args.json:
        print(json.dumps(rep.as_dict(), indent=2))
    else:
        print_findings(rep.findings, rep.where, rep.ok, args.verbose)
    return EXIT_OK if rep.ok else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    modes = [m for m, given in (("a lineage directory", args.lineage_dir), ("--cert", args.cert),
                                 ("--connect", args.connect)) if given]
    if len(modes) != 1:
        return usage_error("verify takes one of: a lineage directory (live/<name>/), --cert FILE "
                           "[--chain FILE], or --connect HOST:PORT" + (f" (given: {', '.join(modes)})" if modes else ""))
    if args.chain and not args.cert:
        return usage_error("--chain needs --cert")
    if args.crl and args.connect:
        return usage_error("--crl takes a lineage directory or --cert, not --connect")
    if args.connect:
        return _verify_connect(args)
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.material.trust import load_trust_store
    from certbot_safedeploy.verify.lineagecheck import verify_lineage
    from certbot_safedeploy.verify.pinformat import PinFormatError, normalize_pin

    try:
        pin_set = [normalize_pin(p) for p in args.pin]
    except PinFormatError as exc:
        return usage_error(f"--pin: {exc}")
    trust = load_trust_store(args.trust_anchor, args.partial_chain_anchor)
    if args.cert:
        from certbot_safedeploy.material.certfiles import verify_files

        report = verify_files(args.cert, args.chain, trust=trust, domains=args.domain or [],
                              pin_set=pin_set)
        subject = args.cert
    else:
        report, _ = verify_lineage(read_lineage(args.lineage_dir), trust=trust,
                                   domains=domains_or_renewed(args.domain), pin_set=pin_set)
        subject = args.lineage_dir
    if getattr(args, "crl", None):
        from certbot_safedeploy.material.crlfile import crl_findings

        cert = args.cert or os.path.join(args.lineage_dir, "cert.pem")
        chain = args.chain if args.cert else os.path.join(args.lineage_dir, "chain.pem")
        report.extend(crl_findings(cert, chain, args.crl))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        if args.verbose and report.engine:
            print(f"engine: {report.engine} decided trust")
        checked = os.environ.get(CHECKED_AGAINST_ENV, "").strip()
        if args.verbose and checked:  # set by the test suite only: the gate itself runs no client
            print(f"clients: this verdict was checked against {checked[:300]}")
        print_findings(report.findings, subject, report.ok, args.verbose)
    return EXIT_OK if report.ok else EXIT_FAILED
