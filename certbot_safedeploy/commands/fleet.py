"""``certbot-safedeploy fleet ...``: its subcommands' parser and bodies.

Imports stay lazy: a ``fleet pull`` that finds nothing new loads the database
driver (psycopg or sqlite3) and nothing else heavy: not SQLAlchemy, not
cryptography, not the deploy pipeline (:mod:`certbot_safedeploy.fleet.db.wire`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

EXIT_OK, EXIT_FAILED = 0, 1


def _settings(args: argparse.Namespace) -> tuple[Any, Any]:
    from certbot_safedeploy.config.fleet_section import fleet_defaults
    from certbot_safedeploy.config.load import config_path, load_config

    config = load_config(config_path(args.config))
    # no [fleet] table: the defaults (a store in state_dir, this host's FQDN)
    settings = config.fleet or fleet_defaults(config.state_dir)
    return config, settings


def _context(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from certbot_safedeploy.fleet.db.store import Store

    config, settings = _settings(args)
    return config, settings, Store.open(settings)


def _local(settings: Any) -> Any:
    from certbot_safedeploy.fleet.localstate import LocalFleet

    return LocalFleet(settings.key_dir)


def cmd_migrate(args: argparse.Namespace) -> int:
    _, _, store = _context(args)
    before, after = store.migrate()
    print(f"{store.label}: schema version {before} -> {after}" if after != before
          else f"{store.label}: schema version {after} is current")
    return EXIT_OK


def cmd_enroll(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.enroll import enroll

    _, settings, store = _context(args)
    result = enroll(settings, store, _local(settings), args.name, args.domain, args.key_type,
                    now=int(time.time()), takeover=args.takeover)
    print("\n".join(result.lines))
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.enroll import rekey

    _, settings, store = _context(args)
    _, _, lines = rekey(settings, store, _local(settings), args.name, now=int(time.time()),
                        key_type=args.key_type, restart=args.restart)
    print("\n".join(lines))
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    from certbot_safedeploy.errors import FleetError
    from certbot_safedeploy.fleet.pull import pull
    from certbot_safedeploy.fleet.db.wire import DirectStore

    config, settings = _settings(args)
    store = DirectStore(settings)
    try:
        run = pull(config, settings, store, _local(settings), now=int(time.time()), names=args.names,
                   lock_timeout=args.lock_timeout, retry_now=args.retry_now)
    except FleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _notify(config, "fleet pull", settings.server, str(exc))
        return EXIT_FAILED
    finally:
        store.close()
    for out in run.outcomes:
        stream = sys.stdout if out.exit_code == 0 else sys.stderr
        for line in out.lines:
            print(line, file=stream)
        if out.exit_code:
            _notify(config, "fleet pull", out.name, f"{out.outcome}: " + " | ".join(out.lines),
                    server=settings.server, exit_code=out.exit_code)
        if out.outcome not in ("unchanged", "awaiting issuance", "not in store", "backing off", "not accepted"):
            _record(config, out)
    for line in run.lines:
        print(line, file=sys.stderr if run.exit_code else sys.stdout)
    return run.exit_code


def _record(config: Any, out: Any) -> None:
    from certbot_safedeploy.report.status import record_deploy

    try:
        record_deploy(config.status, out.name,
                      [t.name for t in config.targets_for(out.name)], out.outcome, out.exit_code, None)
    except OSError as exc:
        print(f"warning: cannot write the status file: {exc}", file=sys.stderr)


def _notify(config: Any, step: str, subject: str, message: str, **extra: Any) -> None:
    from certbot_safedeploy.report.notify import notify_failure

    notify_failure(step, subject, message, settings=config.notify, **extra)


def cmd_renew(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.renew import renew

    config, settings, store = _context(args)
    store.migrate()
    if args.force:
        if not args.names:
            print("error: --force needs the names to renew", file=sys.stderr)
            return 2
        unknown = store.force(args.names)
        if unknown:
            print(f"error: not in the store: {', '.join(unknown)}", file=sys.stderr)
            return EXIT_FAILED
    run = renew(config, settings, store, now=int(time.time()), names=args.names)
    for line in run.lines:
        print(line, file=sys.stderr if any(w in line for w in ("FAILED", "held back", "REFUSED")) else sys.stdout)
    return run.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.rules.view import judge, render_table

    from certbot_safedeploy.fleet.db.wire import DirectStore

    config, settings = _settings(args)
    store = DirectStore(settings)  # a read: the driver directly, no SQLAlchemy (as a pull)
    try:
        rows = store.status_rows()
    finally:
        store.close()
    now = time.time()
    stale = args.stale_after_hours or settings.stale_after_hours
    entries = [judge(row, now, stale, typed=False) for row in rows]
    if settings.ari_directory:  # the last window each certificate's ARI check saw (no request)
        from certbot_safedeploy.fleet.arisignal import stored_windows

        windows = stored_windows(config.state_dir, [e.name for e in entries])
        for entry in entries:
            entry.ari_window = windows.get(entry.name)
    if args.json:
        # one entry a line: still one JSON array, and json's C encoder does the work (indent= disables it)
        print("[\n" + ",\n".join(json.dumps(e.as_dict()) for e in entries) + "\n]")
    else:
        print(render_table(entries, now, color=sys.stdout.isatty()))
    return EXIT_OK if all(e.ok for e in entries) else EXIT_FAILED


def _domains(values: list[str]) -> list[str]:
    from certbot_safedeploy.fleet.rules.csr import check_domains

    return list(check_domains(values))


def cmd_allow(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.central import allow
    from certbot_safedeploy.fleet.localstate import check_name

    _, _, store = _context(args)
    store.migrate()
    new = allow(store, check_name(args.server), _domains(args.domain), int(time.time()))
    print(f"{store.label}: server {args.server!r} may now hold " + (", ".join(new) if new else "nothing new")
          + ("; the next fleet renew accepts its waiting enrollments" if new else ""))
    return EXIT_OK


def cmd_disallow(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.central import disallow

    _, _, store = _context(args)
    gone = disallow(store, args.server, _domains(args.domain))
    missing = [d for d in _domains(args.domain) if d not in gone]
    print(f"{store.label}: server {args.server!r} may no longer hold {', '.join(gone) or 'nothing'}"
          + (f" (was not allowed: {', '.join(missing)})" if missing else "")
          + ("; fleet renew stops issuing them for it" if gone else ""))
    return EXIT_OK


def cmd_allowed(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.central import allowed_list

    _, _, store = _context(args)
    for server, domains in allowed_list(store).items():
        if not args.server or server == args.server:
            print(f"{server}: {' '.join(domains)}")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.central import forget

    _, _, store = _context(args)
    count = forget(store, args.name)
    if not count:
        print(f"error: {args.name!r} is not in {store.label}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{store.label}: forgot {args.name!r} ({count} row(s): certificate, enrollments, reports, attempts); "
          "servers that still pull it are told it is not in the store")
    return EXIT_OK


def cmd_grant(args: argparse.Namespace) -> int:
    from certbot_safedeploy.fleet.central import grant
    from certbot_safedeploy.fleet.localstate import check_name
    from certbot_safedeploy.fleet.db.wire import read_password

    _, _, store = _context(args)
    store.migrate()
    for line in grant(store, check_name(args.server), read_password(args.password_file)):
        print(line)
    return EXIT_OK


def cmd_units(args: argparse.Namespace) -> int:
    import os

    from certbot_safedeploy.config.load import config_path
    from certbot_safedeploy.fleet.units import write_units

    roles = ("pull", "renew") if args.role == "both" else (args.role,)
    config = os.path.abspath(config_path(args.config))
    for path in write_units(args.dest, roles, config):
        print(f"wrote {path}")
    timers = " ".join(f"certbot-safedeploy-fleet-{r}.timer" for r in roles)
    print(f"next: systemctl daemon-reload && systemctl enable --now {timers}")
    return EXIT_OK


def add_parser(sub: Any) -> None:
    fleet = sub.add_parser("fleet", help="central issuance, per-server pull (keys stay on their servers)")
    fsub = fleet.add_subparsers(dest="fleet_command", required=True)

    def cmd(name: str, func: Any, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = fsub.add_parser(name, help=text, description=text)
        p.add_argument("--config", help="safedeploy TOML with a [fleet] table "
                       "(default: $SAFEDEPLOY_CONFIG or /etc/letsencrypt/safedeploy.toml)")
        p.set_defaults(func=func)
        return p

    cmd("migrate", cmd_migrate, "create the store's tables or upgrade them to this version")
    p = cmd("enroll", cmd_enroll, "make a key here and publish its CSR for NAME")
    p.add_argument("name")
    p.add_argument("--domain", "-d", action="append", required=True, help="a name the certificate covers")
    p.add_argument("--key-type", choices=("ec", "rsa"), default="ec")
    p.add_argument("--takeover", action="store_true", help="move NAME here from another server")
    p = cmd("rekey", cmd_rekey, "make a new key for NAME; the old one stays live until its cert is installed")
    p.add_argument("name")
    p.add_argument("--key-type", choices=("ec", "rsa"))
    p.add_argument("--restart", action="store_true", help="replace a rekey that is still pending")
    p = cmd("pull", cmd_pull, "install the newest certificate of each enrolled name (systemd timer)")
    p.add_argument("names", nargs="*", help="only these names (default: every enrolled name)")
    p.add_argument("--lock-timeout", type=float, default=600.0, help="wait this long for another pull")
    p.add_argument("--retry-now", action="store_true", help="retry a failed deploy without waiting for its back-off")
    p = cmd("renew", cmd_renew, "issue due names with certbot --csr and publish them (central host)")
    p.add_argument("names", nargs="*", help="only these names")
    p.add_argument("--force", action="store_true", help="renew NAMES now even if not due")
    p = cmd("allow", cmd_allow, "let SERVER hold these exact names (central host; wildcards written out)")
    p.add_argument("server")
    p.add_argument("--domain", "-d", action="append", required=True, help="a name, e.g. www.example.com or *.example.com")
    p = cmd("disallow", cmd_disallow, "take names away from SERVER (central host; approves a takeover)")
    p.add_argument("server")
    p.add_argument("--domain", "-d", action="append", required=True)
    p = cmd("allowed", cmd_allowed, "list the allow list (central host)")
    p.add_argument("server", nargs="?")
    p = cmd("forget", cmd_forget, "drop certificate NAME and every row about it (central host)")
    p.add_argument("name")
    p = cmd("grant", cmd_grant, "create or update SERVER's own PostgreSQL login role (central host)")
    p.add_argument("server")
    p.add_argument("--password-file", required=True, help="root-owned 0600 file with the role's password")
    p = cmd("status", cmd_status, "per name and server: published, served, last pull, failures")
    p.add_argument("--json", action="store_true")
    p.add_argument("--stale-after-hours", type=float, help="default: [fleet] stale_after_hours (26)")
    p = cmd("units", cmd_units, "write the systemd service and timer units for this installation")
    p.add_argument("--role", choices=("pull", "renew", "both"), default="pull",
                   help="pull on servers, renew on the central host")
    p.add_argument("--dest", default="/etc/systemd/system")
