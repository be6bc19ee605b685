"""The central host follows each certificate's ARI window (RFC 9773) when the CA offers one.

``[fleet] ari_directory`` names the CA's ACME directory.  Before ``fleet renew``
decides, one ARI pass (:mod:`certbot_safedeploy.ari.cycle`) checks every issued
certificate, honouring ``Retry-After`` through its records in
``<state_dir>/fleet-ari/``.  A certificate with a window is judged by it
(:func:`.rules.renewal_policy.renewal_reason`); one without (the CA offers no
renewalInfo, or the answer was broken) by the fleet's own policy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

from certbot_safedeploy.ari import record as records
from certbot_safedeploy.syntax.renewalinfo import format_time

if TYPE_CHECKING:  # fleet status reads the records without SQLAlchemy, cryptography or ssl
    from certbot_safedeploy.ari.fetch import Client
    from certbot_safedeploy.config.fleet_section import FleetSettings
    from certbot_safedeploy.fleet.db.store import Candidate

SUBDIR = "fleet-ari"


def state_dir_for(state_dir: str) -> str:
    return os.path.join(state_dir, SUBDIR)


def ari_verdicts(settings: "FleetSettings", state_dir: str, candidates: "Sequence[Candidate]", now: float,
                 client: "Client | None" = None) -> tuple[dict[str, tuple[bool, str]], list[str]]:
    """({name: (due, why)} for certificates with a window, lines about the others)."""
    from cryptography import x509

    from certbot_safedeploy.ari.cycle import DUE, FAILED, NOT_OFFERED, WAITING, Pass, Subject
    from certbot_safedeploy.ari.fetch import Client

    if not settings.ari_directory:
        return {}, []
    subjects, lines = [], []
    for cand in candidates:
        if not cand.cert_pem or cand.state.cert_pin is None:
            continue
        try:
            cert = x509.load_pem_x509_certificate(cand.cert_pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            lines.append(f"{cand.state.name}: the stored certificate does not parse: no ARI check (own policy)")
            continue
        subjects.append(Subject(cand.state.name, cert, settings.ari_directory))
    if not subjects:
        return {}, lines
    outcomes = Pass(state_dir_for(state_dir), client or Client(), now).run(subjects)
    verdicts: dict[str, tuple[bool, str]] = {}
    offered = True
    for outcome in outcomes:
        if outcome.state in (DUE, WAITING) and outcome.window is not None:
            verdicts[outcome.name] = (outcome.state == DUE, outcome.line.split(": ", 1)[1])
        elif outcome.state == NOT_OFFERED:
            offered = False
        elif outcome.state == FAILED:
            lines.append(outcome.line + " (the fleet's own policy applies)")
    if not offered:
        lines.append(f"the CA at {settings.ari_directory} offers no renewalInfo (ARI): the fleet's own policy applies")
    return verdicts, lines


def stored_windows(state_dir: str, names: Sequence[str]) -> dict[str, str]:
    """{name: "window .. (renew at ...)"} from the last checks; no request is sent."""
    found = {}
    for name in set(names):
        try:
            rec = records.load(state_dir_for(state_dir), name)
        except ValueError:
            continue
        if rec is not None and rec.window is not None:
            found[name] = rec.window.text() + (f" (renew at {format_time(rec.chosen)})" if rec.chosen else "")
    return found
