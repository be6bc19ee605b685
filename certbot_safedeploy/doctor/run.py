"""Put the doctor together: snapshot, config, checks, optional live probes."""

from __future__ import annotations

import os
from typing import Mapping

from certbot_safedeploy.config.model import Config

from certbot_safedeploy.config.load import load_config
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Report
from certbot_safedeploy.doctor.checks import run_checks
from certbot_safedeploy.doctor.traps import service_checks
from certbot_safedeploy.doctor.snapshot import Snapshot, take_snapshot


def schedule_findings(snap: Snapshot, system_root: str) -> list[report.Finding]:
    """Per lineage: when its renewal really happens, and whether that works (doctor/schedule_checks.py)."""
    from certbot_safedeploy.doctor.certbotversion import installed_certbot
    from certbot_safedeploy.doctor.schedule_checks import LineageTiming, check_timing
    from certbot_safedeploy.doctor.scheduling import schedulers

    timed = [l for l in snap.lineages if l.not_before is not None and l.not_after is not None]
    if not timed:
        return []
    installed, cadences = installed_certbot(system_root), schedulers(system_root)
    out: list[report.Finding] = []
    for lineage in timed:
        assert lineage.not_before is not None and lineage.not_after is not None
        out += check_timing(LineageTiming(lineage.name, lineage.conf.path, lineage.conf.top.get("version", ""),
                                          lineage.conf.top.get("renew_before_expiry", ""),
                                          lineage.not_before, lineage.not_after), installed, cadences)
    return out


def run_doctor(config_dir: str, config_path: str, *, system_root: str = "/", live: bool = False,
               service_configs: Mapping[str, str] | None = None) -> Report:
    rep = Report(config_dir)
    config: Config | None = None
    extra: list[tuple[str, str]] = []
    if os.path.exists(config_path):
        extra.append(("config", config_path))
        try:
            config = load_config(config_path)
        except (SafeDeployError, OSError) as exc:
            rep.findings.append(report.error(config_path, "config", str(exc), "fix the config"))
        if config is not None:
            tsig = config.challenge.tsig_key if config.challenge else None
            if tsig:
                extra.append(("TSIG key", tsig))
    snap = take_snapshot(config_dir, system_root, extra)
    targets = [(t.name, t.lineage) for t in config.targets] if config else []
    rep.extend(run_checks(snap, targets, config_path))
    rep.extend(schedule_findings(snap, system_root))
    rep.extend(service_checks(config_dir, config, config_path, system_root=system_root, locations=service_configs))
    from certbot_safedeploy.doctor.clientuse import client_use_findings, client_uses

    rep.extend(client_use_findings(client_uses(system_root, service_configs), config, config_dir))
    if live:
        from certbot_safedeploy.doctor.live import live_checks

        rep.extend(live_checks(snap, config, system_root))
    if not rep.findings:
        rep.findings.append(report.passed(config_dir, "doctor",
                                          f"{len(snap.lineages)} lineage(s), no problems found"))
    return rep
