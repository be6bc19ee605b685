"""The gate's look back: what the new certificate changes for each target, before anything is installed.

For every target, the leaf in the target's own files (:mod:`.deployed`) is compared
with the new one (:mod:`certbot_safedeploy.verify.changes`).  The differences go
into one block of the deploy output; refusals stop the deploy before install.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Sequence

from certbot_safedeploy.config.target_section import Target
from certbot_safedeploy.deploy.deployed import deployed_facts, target_context
from certbot_safedeploy.verify.changes import compare
from certbot_safedeploy.verify.leaffacts import LeafFacts, leaf_facts
from certbot_safedeploy.verify.lineagecheck import VerifiedLineage
from certbot_safedeploy.verify.names import covers
from certbot_safedeploy.verify.report import Finding, Severity


@dataclasses.dataclass
class ChangeVerdict:
    block: list[str]
    findings: list[Finding]
    new: LeafFacts

    @property
    def refused(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def _needs_service(old: LeafFacts | None, new: LeafFacts) -> bool:
    dropped = old is not None and any(not any(covers(s, n) for s in new.names) for n in old.names)
    return not new.client_auth or not new.ocsp_urls or dropped


def judge_changes(targets: Sequence[Target], material: VerifiedLineage, config_source: str,
                  now: datetime.datetime | None = None) -> ChangeVerdict:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    new = leaf_facts(material.leaf, material.chain)
    grouped: dict[tuple[str, ...], list[str]] = {}
    findings: list[Finding] = []
    for target in targets:
        path, old = deployed_facts(target)
        ctx = target_context(target, path, config_source,
                             read_service=bool(target.service) and _needs_service(old, new))
        changes = compare(old, new, ctx, now)
        if changes.block:
            grouped.setdefault(tuple(changes.block), []).append(target.name)
        findings += [f for f in changes.findings if f not in findings]
    block: list[str] = []
    if grouped:
        block.append("changes from the deployed certificate:")
        for lines, names in grouped.items():
            block += [f"  [{', '.join(names)}] {line}" for line in lines]
    return ChangeVerdict(block, findings, new)


def renewal_facts(material: VerifiedLineage, name: str, new: LeafFacts) -> dict[str, float]:
    """Lifetime, and when certbot (the version in renewal/NAME.conf) will renew, for the status file."""
    from certbot_safedeploy.material.renewalconf import parse_renewal_conf
    from certbot_safedeploy.material.renewalrule import parse_version, renewal_time

    config_dir = os.path.dirname(os.path.dirname(os.path.normpath(material.directory)))
    path = os.path.join(config_dir, "renewal", f"{name}.conf")
    version, before = None, ""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            conf = parse_renewal_conf(name, path, handle.read(1 << 20))
        version = parse_version(conf.top.get("version", ""))
        before = conf.top.get("renew_before_expiry", "")
    except OSError:
        pass
    due = renewal_time(new.not_before, new.not_after, version, before)
    return {"lifetime_days": round(new.lifetime_days, 3), "not_before_epoch": new.not_before.timestamp(),
            "renewal_epoch": due.timestamp()}
