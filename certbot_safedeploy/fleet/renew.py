"""``fleet renew``: the central host issues due names with ``certbot certonly --csr``.

First every enrollment is judged against the allow list (:func:`.central.accept`):
a CSR naming anything not allowed for the server that enrolled it is refused,
reported here, in ``fleet status`` and (once) through ``[notify]``.  Then, for each name in the store (in name order, one at a time): decide whether it
is due (:mod:`.rules.renewal_policy`), respect its back-off and the run's order budget, run
certbot with the stored CSR, check the result against the CSR's key and names
(:mod:`.rules.issued`), and publish it.  A failure is recorded on that name alone
(back-off, last error, an attempt row) and sent to the notify channels; the
loop goes on with the next name.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from typing import Sequence

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.rules import renewal_policy as policy
from certbot_safedeploy.fleet.central import accept
from certbot_safedeploy.fleet.rules.issued import IssuedCertificate, check_issued
from certbot_safedeploy.config.fleet_section import FleetSettings
from certbot_safedeploy.fleet.db.store import Candidate, Store

OK, FAILED = 0, 1


@dataclasses.dataclass
class RenewRun:
    lines: list[str] = dataclasses.field(default_factory=list)
    issued: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    exit_code: int = OK


def certbot_argv(settings: FleetSettings, workdir: str) -> list[str]:
    return [*settings.certbot, "certonly", "--non-interactive", "--csr", os.path.join(workdir, "csr.pem"),
            "--cert-path", os.path.join(workdir, "cert.pem"),
            "--chain-path", os.path.join(workdir, "chain.pem"),
            "--fullchain-path", os.path.join(workdir, "fullchain.pem")]


def _tail(text: str, lines: int = 6) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:])[:1500]


def obtain(settings: FleetSettings, candidate: Candidate, now: float) -> IssuedCertificate:
    """Run certbot for one CSR; return the checked certificate or raise FleetError."""
    workdir = tempfile.mkdtemp(prefix="safedeploy-fleet-")
    try:
        with open(os.path.join(workdir, "csr.pem"), "w", encoding="ascii") as handle:
            handle.write(candidate.csr_pem)
        argv = certbot_argv(settings, workdir)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=settings.certbot_timeout,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise FleetError(f"cannot run {argv[0]!r}", fix="set [fleet] certbot to certbot's full path") from None
        except subprocess.TimeoutExpired:
            raise FleetError(f"certbot did not finish in {settings.certbot_timeout:.0f} s",
                             fix="look at certbot's log; raise [fleet] certbot_timeout if the CA is slow") from None
        if proc.returncode != 0:
            raise FleetError(f"certbot exited {proc.returncode}: {_tail(proc.stderr or proc.stdout)}",
                             fix="see /var/log/letsencrypt/letsencrypt.log on the central host")
        try:
            with open(os.path.join(workdir, "cert.pem"), "rb") as handle:
                cert = handle.read(1 << 20)
            with open(os.path.join(workdir, "chain.pem"), "rb") as handle:
                chain = handle.read(1 << 20)
        except OSError as exc:
            raise FleetError(f"certbot succeeded but wrote no certificate: {exc.strerror}",
                             fix="check the [fleet] certbot argv") from None
        return check_issued(cert, chain, candidate.state.csr_pin, candidate.domains, now)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def renew(config: Config, settings: FleetSettings, store: Store, *, now: int,
          names: Sequence[str] = ()) -> RenewRun:
    from certbot_safedeploy.report.notify import make_report, send

    run = RenewRun()
    acceptance = accept(store, now)
    run.lines.extend(acceptance.accepted)
    for name, server, why in acceptance.refused:
        if names and name not in names:
            continue
        run.lines.append(f"{name}: REFUSED the enrollment of server {server!r}: {why}")
        run.exit_code = FAILED
        if (name, server) in acceptance.new_refusals:
            send(make_report("fleet renew", name, f"refused the enrollment of server {server!r}: {why}"),
                 config.notify)
    candidates = [c for c in store.candidates() if not names or c.state.name in names]
    missing = sorted(set(names) - {c.state.name for c in candidates} - {r[0] for r in acceptance.refused})
    for name in missing:
        run.lines.append(f"{name}: not in the store (fix: enroll it on its server first)")
        run.exit_code = FAILED
    from certbot_safedeploy.fleet.arisignal import ari_verdicts

    windows, ari_lines = ari_verdicts(settings, config.state_dir, candidates, now)
    run.lines.extend(ari_lines)
    orders, failures = store.attempt_counts(now - policy.ORDER_WINDOW, now - policy.FAILURE_WINDOW)
    budget = policy.order_budget(orders, settings.max_orders_per_3h)
    for cand in candidates:
        name = cand.state.name
        reason = policy.renewal_reason(cand.state, now, settings.renew_fraction, windows.get(name))
        if reason is None:
            continue
        held = policy.held_back(cand.state, now, failures.get(name, 0), settings.max_failures_per_hour)
        if held:
            run.lines.append(f"{name}: due ({reason}) but held back: {held}")
            run.exit_code = FAILED
            continue
        if budget <= 0:
            run.lines.append(f"{name}: due ({reason}) but deferred: {settings.max_orders_per_3h} orders "
                             "in 3 h reached (the CA's per-account limit)")
            run.exit_code = FAILED
            continue
        budget -= 1
        try:
            issued = obtain(settings, cand, now)
            if store.publish(name, cand.state.csr_pin, issued, now):
                run.issued.append(name)
                run.lines.append(f"{name}: issued and published serial {issued.serial} ({reason})")
            else:
                run.lines.append(f"{name}: the CSR changed while certbot ran; discarded serial {issued.serial}, "
                                 "the next run issues for the new CSR")
        except FleetError as exc:
            failures_now = cand.state.consecutive_failures + 1
            retry = now + policy.backoff_seconds(failures_now)
            message = f"{exc} (failure {failures_now} in a row; next attempt in " \
                      f"{policy.backoff_seconds(failures_now) // 60} min)"
            run.failed.append(name)
            run.lines.append(f"{name}: FAILED: {message}")
            run.exit_code = FAILED
            try:
                store.record_failure(name, str(exc), now, retry)
            except FleetError as store_exc:
                run.lines.append(f"{name}: could not record the failure: {store_exc}")
            send(make_report("fleet renew", name, message), config.notify)
    if not run.lines:
        run.lines.append(f"nothing due among {len(candidates)} name(s)")
    return run
