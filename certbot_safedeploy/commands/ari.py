"""``certbot-safedeploy ari``: renew each lineage when its CA's renewal information says so.

For each ``renewal/<name>.conf`` under the certbot config dir: read the CA's
directory (``server``), check the certificate's renewal window (RFC 9773,
:mod:`certbot_safedeploy.ari.cycle`), and when it is time, run
``certbot renew --cert-name NAME --force-renewal``, so that certbot's saved options,
its authenticator and our deploy hook (the gate) run as for any renewal.
Lineages last written by a certbot that checks ARI itself (4.1 and later) are left
to it unless ``--force-ari``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from typing import TYPE_CHECKING, Sequence

# cli.py builds every parser, the deploy hook's included: the ARI machinery (cryptography,
# urllib, ssl, threads) is imported when `ari` runs, not when this module is.
if TYPE_CHECKING:
    from certbot_safedeploy.ari.cycle import RevocationCheck
    from certbot_safedeploy.ari.fetch import Client

CERTBOT_TIMEOUT = 900


@dataclasses.dataclass
class AriRun:
    lines: list[str] = dataclasses.field(default_factory=list)
    renewed: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)  # the lines that make the run fail
    requests: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def problem(self, line: str) -> None:
        self.lines.append(line)
        self.problems.append(line)


def renew_argv(certbot: Sequence[str], config_dir: str, name: str) -> list[str]:
    return [*certbot, "renew", "--cert-name", name, "--force-renewal", "--non-interactive",
            "--no-random-sleep-on-renew", "--config-dir", config_dir]


def _tail(text: str, lines: int = 4) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])[:800]


def renew_one(certbot: Sequence[str], config_dir: str, name: str) -> tuple[bool, str]:
    import subprocess

    argv = renew_argv(certbot, config_dir, name)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=CERTBOT_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return False, f"{name}: cannot run {argv[0]!r} (fix: --certbot /path/to/certbot)"
    except subprocess.TimeoutExpired:
        return False, f"{name}: certbot did not finish in {CERTBOT_TIMEOUT} s"
    if proc.returncode != 0:
        return False, f"{name}: certbot renew exited {proc.returncode}: {_tail(proc.stderr or proc.stdout)}"
    return True, f"{name}: renewed by certbot (its deploy hooks ran)"


def state_dir_of(config_path: str) -> str:
    from certbot_safedeploy.config.load import DEFAULT_STATE_DIR, load_config

    if not os.path.exists(config_path):
        return DEFAULT_STATE_DIR
    return load_config(config_path).state_dir


def run_ari(config_dir: str, config_path: str, *, certbot: str = "certbot", force_ari: bool = False,
            dry_run: bool = False, only: Sequence[str] = (), client: "Client | None" = None,
            now: float | None = None, revoked: "RevocationCheck | None" = None,
            interval: float | None = None) -> AriRun:
    """One pass; ``interval``: seconds until this job runs again, if known (RFC 9773 section 4.2,
    step 4: a time chosen before the next run is acted on now)."""
    import time

    from certbot_safedeploy.ari.certid import CertIdError, cert_id
    from certbot_safedeploy.ari.cycle import DUE, FAILED, Pass, mark_renewed
    from certbot_safedeploy.ari.fetch import Client
    from certbot_safedeploy.ari.sources import subjects_of
    from certbot_safedeploy.errors import SafeDeployError

    run = AriRun()
    try:
        state_dir = state_dir_of(config_path)
    except (SafeDeployError, OSError) as exc:
        run.problem(f"error: {exc}")
        return run
    try:
        argv = shlex.split(certbot)
    except ValueError as exc:
        argv = []
        run.problem(f"error: --certbot {certbot!r}: {exc}")
    if not argv:
        if not run.problems:
            run.problem("error: --certbot is empty")
        return run
    subjects, lines, problems = subjects_of(config_dir, force_ari, only)
    run.lines.extend(lines)
    for line in problems:
        run.problem(line)
    if not subjects:
        run.lines.append(f"no lineage in {config_dir}/renewal/ to check" if not run.lines else
                         f"no lineage left to check in {config_dir}/renewal/")
        return run
    client = client or Client()
    before = client.requests
    started = time.time() if now is None else now
    check = Pass(state_dir, client, started, save=not dry_run, revoked=revoked,
                 next_wake=started + interval if interval else None)
    outcomes = check.run(subjects)
    run.requests = client.requests - before
    for outcome in outcomes:
        (run.problem if outcome.state == FAILED else run.lines.append)(outcome.line)
    run.lines.extend(check.warnings)
    certs = {s.name: s.cert for s in subjects}
    for outcome in (o for o in outcomes if o.state == DUE):
        if dry_run:
            run.lines.append(f"{outcome.name}: due; would run: {shlex.join(renew_argv(argv, config_dir, outcome.name))}")
            continue
        ok, line = renew_one(argv, config_dir, outcome.name)
        (run.lines.append if ok else run.problem)(line)
        if ok:
            run.renewed.append(outcome.name)
            try:
                mark_renewed(state_dir, outcome.name, cert_id(certs[outcome.name]), check.now)
            except (OSError, SafeDeployError, CertIdError):
                pass
    run.lines.append(f"ari: {len(subjects)} lineage(s) checked, {run.requests} request(s) sent, "
                     f"{len(run.renewed)} renewed" + (", with failures" if run.failed else ""))
    return run


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ari", help="renew lineages when their CA's renewal information (RFC 9773 ARI) says so")
    p.add_argument("--config-dir", default="/etc/letsencrypt")
    p.add_argument("--config", help="safedeploy TOML, for state_dir (default: $SAFEDEPLOY_CONFIG or "
                   "/etc/letsencrypt/safedeploy.toml)")
    p.add_argument("--certbot", default="certbot", help="the certbot command that renews (default: certbot)")
    p.add_argument("--cert-name", action="append", default=[], help="only this lineage (repeatable)")
    p.add_argument("--force-ari", action="store_true",
                   help="also check lineages whose certbot (4.1 and later) checks ARI itself")
    p.add_argument("--interval", type=_seconds, metavar="SECONDS",
                   help="how often this job runs (the timer: 25200): a renewal time before the next run is due now")
    p.add_argument("--dry-run", action="store_true", help="check and print; renew nothing, keep no state")
    p.add_argument("--no-crl", action="store_true",
                   help="do not check each certificate against its CRL (a revoked one is renewed at once)")
    p.set_defaults(command_module="ari")


def _seconds(text: str) -> float:
    if not text.isdigit() or not 60 <= int(text) <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole seconds from 60 to 604800")
    return float(text)


def run(args: argparse.Namespace) -> int:
    """The ``ari`` subcommand (cli.py dispatches here)."""
    from certbot_safedeploy.config.load import config_path as default_config

    config_path = default_config(args.config)
    revoked = None
    if not args.no_crl:
        from certbot_safedeploy.ari.revoked import crl_revocation
        from certbot_safedeploy.errors import SafeDeployError

        try:
            revoked = crl_revocation(args.config_dir, state_dir_of(config_path))
        except (SafeDeployError, OSError):
            revoked = None  # run_ari names the config problem itself
    result = run_ari(args.config_dir, config_path, certbot=args.certbot, force_ari=args.force_ari,
                     dry_run=args.dry_run, only=args.cert_name, interval=args.interval, revoked=revoked)
    for line in result.lines:
        print(line, file=sys.stderr if line in result.problems else sys.stdout)
    return 1 if result.failed else 0
