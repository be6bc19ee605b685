"""Put the doctor together: snapshot, config, checks, optional live probes."""

from __future__ import annotations

import os
from typing import Mapping

from certbot_safedeploy.config.load import Config, load_config
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Report
from certbot_safedeploy.doctor.checks import run_checks
from certbot_safedeploy.doctor.traps import service_checks
from certbot_safedeploy.doctor.snapshot import take_snapshot


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
            tsig = config.raw_sections.get("challenge", {}).get("tsig_key")
            if tsig:
                extra.append(("TSIG key", tsig))
    snap = take_snapshot(config_dir, system_root, extra)
    targets = [(t.name, t.lineage) for t in config.targets] if config else []
    rep.extend(run_checks(snap, targets, config_path))
    rep.extend(service_checks(config_dir, config, config_path, system_root=system_root, locations=service_configs))
    if live:
        from certbot_safedeploy.doctor.live import live_checks

        rep.extend(live_checks(snap, config, system_root))
    if not rep.findings:
        rep.findings.append(report.passed(config_dir, "doctor",
                                          f"{len(snap.lineages)} lineage(s), no problems found"))
    return rep
