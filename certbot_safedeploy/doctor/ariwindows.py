"""``doctor --live``: each lineage's ARI window (RFC 9773), the time chosen in it, the CA's explanation.

A window that has started while nothing will renew the certificate is an error:
neither the ARI timer (certbot-safedeploy-ari.timer) is enabled nor does the
lineage's certbot check ARI itself (4.1 and later).  Inside ``Retry-After`` the
stored window is shown and no request is sent; nothing is written.
"""

from __future__ import annotations

import os
import time

from certbot_safedeploy.ari.cycle import DUE, FAILED, NOT_OFFERED, Outcome, Pass, Subject
from certbot_safedeploy.ari.fetch import Client
from certbot_safedeploy.ari.sources import CERTBOT_DOES_ARI, certbot_version, subjects_of
from certbot_safedeploy.ari.timer import ENABLE, TIMER
from certbot_safedeploy.syntax.renewalinfo import format_time
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding

CHECK = "live-ari"


def timer_enabled(system_root: str) -> bool:
    return any(os.path.lexists(os.path.join(system_root, wants, TIMER))
               for wants in ("etc/systemd/system/timers.target.wants", "usr/lib/systemd/system/timers.target.wants",
                             "lib/systemd/system/timers.target.wants"))


def _finding(subject: Subject, outcome: Outcome, source: str, timer: bool) -> Finding:
    if outcome.state == NOT_OFFERED:
        return report.passed(source, CHECK, outcome.line)
    if outcome.state == FAILED or outcome.window is None:
        return report.warning(source, CHECK, outcome.line, "run certbot-safedeploy ari --dry-run for details")
    text = (f"{subject.name}: ARI window {outcome.window.text()}, chosen time "
            f"{format_time(outcome.chosen or outcome.window.start)}"
            + (f", explanation {outcome.window.explanation_url}" if outcome.window.explanation_url else ""))
    if outcome.state != DUE:
        return report.passed(source, CHECK, text)
    version = certbot_version(subject.certbot)
    if timer or (version is not None and version >= CERTBOT_DOES_ARI):
        who = f"{TIMER}" if timer else f"certbot {subject.certbot} (it checks ARI)"
        return report.warning(source, CHECK, f"{text}: the window has started; {who} renews it at its next run")
    return report.error(source, CHECK, f"{text}: the window has started and nothing renews this certificate "
                        f"(certbot {subject.certbot or '?'} does not check ARI; {TIMER} is not enabled)",
                        f"certbot-safedeploy ari now, and {ENABLE}")


def ari_findings(config_dir: str, state_dir: str, system_root: str = "/", *, client: Client | None = None,
                 now: float | None = None) -> list[Finding]:
    subjects, _, unreadable = subjects_of(config_dir, force_ari=True)
    out = [report.warning(os.path.join(config_dir, "renewal"), CHECK, line) for line in unreadable]
    if not subjects:
        return out
    check = Pass(state_dir, client or Client(), time.time() if now is None else now, save=False)
    timer = timer_enabled(system_root)
    for subject, outcome in zip(subjects, check.run(subjects)):
        out.append(_finding(subject, outcome, os.path.join(config_dir, "renewal", f"{subject.name}.conf"), timer))
    return out
