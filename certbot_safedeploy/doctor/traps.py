"""``doctor``: services that read certbot's live/ or archive/ files straight, bypassing the gate."""

from __future__ import annotations

from typing import Mapping

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.services.survey import Survey, survey
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding


def trap_findings(result: Survey, config_path: str) -> list[Finding]:
    """One error per (service, lineage) naming every file, with a ready-to-paste target."""
    out: list[Finding] = []
    for service in result.services:
        if service.error:
            out.append(report.warning(service.config, "live-trap",
                                      f"cannot read {service.service}'s configuration: {service.error}",
                                      f"fix {service.service}'s configuration, or point doctor at it with "
                                      f"--service-config {service.service}=PATH"))
    for (name, lineage), trapped in sorted(result.trapped.items()):
        proposal = result.proposals[(name, lineage)]
        service = next(s for s in result.services if s.service == name)
        where = "" if service.default else f" --service-config {name}={service.config}"
        reads = "; ".join(f"{t.reference.setting} {t.reference.path} ({t.reference.where})" for t in trapped)
        out.append(report.error(
            trapped[0].reference.where, "live-trap",
            f"{name} reads certbot's {trapped[0].area}/{lineage} files directly: {reads}. certbot swaps them "
            "before any deploy hook runs, so a broken renewal reaches the service at its next reload",
            f"certbot-safedeploy adopt {lineage} --service {name}{where} --write, or paste into {config_path}:\n"
            + proposal.target + "then change in the service's configuration:\n  " + "\n  ".join(proposal.changes)))
    for service, ref, target in result.protected:
        out.append(report.passed(ref.where, "live-trap",
                                 f"{service.service} reads {ref.path} ({ref.setting}), installed by target "
                                 f"{target!r}: protected by the gate"))
    return out


def service_checks(config_dir: str, config: Config | None, config_path: str, *, system_root: str = "/",
                   locations: Mapping[str, str] | None = None) -> list[Finding]:
    return trap_findings(survey(config_dir, config, system_root=system_root, locations=locations), config_path)
