"""Doctor's judgements over a :class:`~.snapshot.Snapshot` (pure: no I/O)."""

from __future__ import annotations

import datetime
from typing import Sequence

from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding
from certbot_safedeploy.material.renewalconf import renew_window_days
from certbot_safedeploy.doctor.snapshot import FileState, Lineage, Snapshot
from certbot_safedeploy.doctor.schedule_checks import (DEPLOY_HOOK_MARKERS, check_proxy, check_schedulers,
                                                       check_sysconfig_hooks, sysconfig_deploys)



def check_manual_hooks(lineage: Lineage) -> list[Finding]:
    params = lineage.conf.params
    if params.get("authenticator") == "manual" and params.get("manual_auth_hook", "None") in ("", "None"):
        return [report.error(
            lineage.conf.path, "manual-without-hook",
            f"{lineage.name} was obtained with --manual and has no manual_auth_hook: "
            "every unattended renewal will fail",
            f"certbot reconfigure --cert-name {lineage.name} --manual-auth-hook /etc/letsencrypt/safedeploy/manual-auth "
            "--manual-cleanup-hook /etc/letsencrypt/safedeploy/manual-cleanup (see docs/first-certificate.rst: migrating a --manual certificate)")]
    return []


def check_expiry(lineage: Lineage, now: datetime.datetime) -> list[Finding]:
    if lineage.parse_error:
        return [report.error(lineage.files["cert"].path, "certificate", lineage.parse_error,
                             f"run certbot-safedeploy verify {lineage.files['cert'].path.rsplit('/', 1)[0]}")]
    if lineage.not_after is None or lineage.not_before is None:
        return []
    left = (lineage.not_after - now).total_seconds() / 86400
    lifetime = (lineage.not_after - lineage.not_before).total_seconds() / 86400
    window = renew_window_days(lineage.conf, lifetime)
    if left < 0:
        return [report.error(lineage.conf.path, "expired", f"{lineage.name} expired {-left:.0f} days ago",
                             f"certbot renew --cert-name {lineage.name} -v, and fix what it reports")]
    if left < window - 1:  # renew runs twice a day: a day inside the window means it keeps failing
        return [report.error(lineage.conf.path, "renewal-failing",
                             f"{lineage.name} expires in {left:.1f} days but the renewal window is "
                             f"{window:.0f} days: renewals are failing",
                             f"certbot renew --cert-name {lineage.name} --dry-run -v, and read the log")]
    return []


def check_files(lineage: Lineage) -> list[Finding]:
    out = []
    for kind, state in sorted(lineage.files.items()):
        if not state.exists:
            what = "broken symlink" if state.broken_link else "missing file"
            out.append(report.error(state.path, "lineage-files",
                                    f"{lineage.name}: {kind} is a {what}",
                                    f"restore archive/{lineage.name}/ from a backup, or re-issue with "
                                    f"certbot certonly --cert-name {lineage.name} --force-renewal"))
    for key in ("cert", "privkey", "chain", "fullchain"):
        if key not in lineage.conf.top:
            out.append(report.error(lineage.conf.path, "renewal-conf", f"no '{key}' path in the renewal config",
                                    "restore the renewal config from a backup"))
    return out


def check_targets(snap: Snapshot, targets: Sequence[tuple[str, str]], config_path: str) -> list[Finding]:
    out = []
    for target, lineage in targets:
        if lineage not in snap.live_names:
            out.append(report.error(config_path, "target-lineage",
                                    f"target {target!r} deploys lineage {lineage!r}, which does not exist "
                                    f"in {snap.config_dir}/live/",
                                    "fix 'lineage' to a --cert-name from certbot certificates"))
    hook_installed = (any(any(m in text for m in DEPLOY_HOOK_MARKERS) for text in snap.deploy_hooks.values())
                      or sysconfig_deploys(snap.scheduling))
    if targets and not hook_installed:
        per_conf = {l.name for l in snap.lineages
                    if any(m in l.conf.params.get("renew_hook", "") for m in DEPLOY_HOOK_MARKERS)}
        missing = sorted({lin for _, lin in targets if lin in snap.live_names and lin not in per_conf})
        if missing:
            out.append(report.error(
                f"{snap.config_dir}/renewal-hooks/deploy", "deploy-hook",
                f"deploy targets exist for {', '.join(missing)} but the safedeploy deploy hook is not "
                "installed: renewed certificates will not be deployed",
                "certbot-safedeploy install"))
    return out


def _unsafe(kind: str, state: FileState) -> Finding | None:
    if not state.exists:
        return report.error(state.path, "permissions", f"{kind} does not exist",
                            "fix the path in the config") if kind != "private key" else None
    if kind in ("private key", "TSIG key") and state.mode & 0o077:
        return report.error(state.path, "permissions",
                            f"{kind} is readable or writable by group or others (mode {state.mode:04o})",
                            f"chmod 0600 {state.path}")
    if kind == "certbot sysconfig" and (state.uid != 0 or state.mode & 0o022):
        return report.error(state.path, "permissions",
                            f"{state.path} is owned by uid {state.uid} with mode {state.mode:04o}; its hooks "
                            "are commands certbot-renew.service runs as root",
                            f"chown root:root {state.path} && chmod 0644 {state.path}")
    if kind == "config" and (state.uid != 0 or state.mode & 0o022):
        return report.error(state.path, "permissions",
                            f"the safedeploy config is owned by uid {state.uid} with mode {state.mode:04o}; "
                            "it names commands run as root", f"chown root:root {state.path} && chmod 0600 {state.path}")
    if state.uid != 0 and kind != "config":
        return report.warning(state.path, "permissions", f"{kind} is owned by uid {state.uid}, not root",
                              f"chown root:root {state.path}")
    return None


def check_permissions(snap: Snapshot) -> list[Finding]:
    return [f for kind, state in snap.sensitive_files if (f := _unsafe(kind, state)) is not None]


def run_checks(snap: Snapshot, targets: Sequence[tuple[str, str]], config_path: str) -> list[Finding]:
    findings: list[Finding] = []
    for lineage in snap.lineages:
        findings += check_manual_hooks(lineage)
        findings += check_files(lineage)
        findings += check_expiry(lineage, snap.now)
    findings += check_schedulers(snap)
    findings += check_sysconfig_hooks(snap, targets)
    findings += check_proxy(snap)
    findings += check_targets(snap, targets, config_path)
    findings += check_permissions(snap)
    return findings
