"""The deploy step: verify -> stage -> install -> check -> reload -> probe -> roll back.

Exit codes (documented in docs/reference/exit-codes.rst):

* 0 ``DEPLOYED``: every target installed, checked, reloaded and probed (or the
  lineage has no target: a logged no-op);
* 1 ``REFUSED``: a check failed before anything live changed;
* 3 ``ROLLED_BACK``: a check, reload or probe failed after install; the previous
  files are back and the service serves them;
* 4 ``ROLLBACK_FAILED``: the rollback itself failed; a human must look now.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Callable, Sequence

from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.config.target_section import Probe, Target

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.material.lineage import read_lineage
from certbot_safedeploy.material.trust import load_trust_store
from certbot_safedeploy.verify.lineagecheck import LineageData, VerifiedLineage, verify_lineage
from certbot_safedeploy.deploy.installer import Installed, Installer, journals
from certbot_safedeploy.deploy.lock import LockError, deploy_lock
from certbot_safedeploy.deploy.plan import build_plan
from certbot_safedeploy.deploy.service import Judge, fetch_served_leaf, probe_until, run_command
from certbot_safedeploy.deploy.tlsclient import Served

DEPLOYED, REFUSED, USAGE, ROLLED_BACK, ROLLBACK_FAILED = 0, 1, 2, 3, 4
OUTCOMES = {DEPLOYED: "deployed", REFUSED: "refused", ROLLED_BACK: "rolled back",
            ROLLBACK_FAILED: "rollback failed"}


@dataclasses.dataclass
class DeployResult:
    lineage: str
    exit_code: int
    targets: list[str]
    lines: list[str] = dataclasses.field(default_factory=list)
    not_after: datetime.datetime | None = None
    facts: dict[str, float] = dataclasses.field(default_factory=dict)  # lifetime, renewal time (status file)

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(self.exit_code, "error")


def _verify_all(config: Config, data: LineageData, targets: Sequence[Target],
                domains: Sequence[str], result: DeployResult) -> VerifiedLineage | None:
    trust = load_trust_store(config.trust_anchors)
    material: VerifiedLineage | None = None
    pin_sets = {t.pins for t in targets}
    for pins in pin_sets:
        report, verified = verify_lineage(data, trust=trust, domains=domains, pin_set=pins)
        for finding in report.errors + report.warnings:
            if finding.line() not in result.lines:
                result.lines.append(finding.line())
        if verified is None:
            return None
        material = verified
    return material


def deploy(config: Config, lineage_dir: str, domains: Sequence[str], *,
           dry_run: bool = False) -> DeployResult:
    """Run the whole deploy for one lineage; never raises for expected failures."""
    name = os.path.basename(os.path.normpath(lineage_dir))
    return deploy_data(config, name, lazy_lineage(lineage_dir), domains, dry_run=dry_run)


def lazy_lineage(lineage_dir: str) -> Callable[[], LineageData]:
    return lambda: read_lineage(lineage_dir)


def deploy_data(config: Config, name: str, read: Callable[[], LineageData], domains: Sequence[str], *,
                dry_run: bool = False, lock_timeout: float | None = None) -> DeployResult:
    """Deploy lineage ``name`` from material ``read()`` returns (a certbot lineage
    directory, or a fleet certificate and a local key held in memory).

    Everything from journal recovery to the last probe or rollback runs under
    the state directory's deploy lock (:mod:`.lock`); a dry run takes no lock.
    """
    targets = config.targets_for(name)
    result = DeployResult(name, DEPLOYED, [t.name for t in targets])
    if not targets:
        result.lines.append(f"lineage {name!r} has no target in {config.source}: nothing to deploy")
        return result
    if dry_run:
        return _deploy_unlocked(config, name, read, domains, targets, result, dry_run=True)
    try:
        with deploy_lock(config.state_dir, f"deploy {name}", lock_timeout):
            return _deploy_unlocked(config, name, read, domains, targets, result, dry_run=False)
    except LockError as exc:
        result.exit_code = REFUSED
        result.lines.append(f"refused: {exc}")
        return result


def recover_all(config: Config, lock_timeout: float | None = None) -> tuple[list[str], bool]:
    """The boot step: complete or undo every interrupted install in the state directory.

    Returns (lines, ok); runs under the deploy lock like any deploy.
    """
    lines: list[str] = []
    ok = True
    try:
        with deploy_lock(config.state_dir, "recover", lock_timeout):
            for name in journals(config.state_dir):
                try:
                    done = Installer(config.state_dir, name, config.backups).recover()
                except (SafeDeployError, OSError) as exc:
                    ok = False
                    lines.append(f"error: {name}: {exc}")
                    continue
                if done:
                    lines.append(f"{name}: {done}")
    except LockError as exc:
        return [f"error: {exc}"], False
    if ok and not lines:
        lines.append(f"no interrupted install in {config.state_dir}: nothing to do")
    return lines, ok


def _deploy_unlocked(config: Config, name: str, read: Callable[[], LineageData], domains: Sequence[str],
                     targets: Sequence[Target], result: DeployResult, *, dry_run: bool) -> DeployResult:
    installer = Installer(config.state_dir, name, config.backups)
    try:
        if not dry_run:
            recovered = installer.recover()
            if recovered:
                result.lines.append(recovered)
        data = read()
        lineage_dir = data.directory
        material = _verify_all(config, data, targets, domains, result)
        if material is None:
            result.exit_code = REFUSED
            result.lines.append(f"refused: {lineage_dir} failed verification; nothing was touched")
            return result
        result.not_after = _not_after(material)
        plan = build_plan(targets, material)
        if not _changes_pass(config, name, targets, material, result):
            result.exit_code = REFUSED
            result.lines.append(f"refused: {lineage_dir} changes what clients rely on; nothing was touched")
            return result
    except SafeDeployError as exc:
        result.exit_code = REFUSED
        result.lines.append(f"refused: {exc}")
        return result
    if dry_run:
        result.lines.append(f"dry run: {lineage_dir} verified; would install:")
        result.lines.extend(f"  [{p.target}] {p.describe()}" for p in plan)
        for t in targets:
            preset = f"service {t.service} preset: " if t.service else ""
            result.lines.append(f"  [{t.name}] {preset}then check {list(t.check) or '-'}, "
                                f"reload {list(t.reload) or '-'}, probe {t.probe or '-'}")
        return result
    served_before = {t.name: _served(t) for t in targets}
    try:
        records = installer.install(plan)
    except (SafeDeployError, OSError) as exc:
        result.exit_code = REFUSED
        result.lines.append(f"refused: install failed before any live file changed: {exc}")
        return result
    if not any(r.changed for r in records):
        result.lines.append("every destination already holds this certificate: no file changed")
    new_leaf = material.leaf.public_bytes(Encoding.DER)
    failure, stage = _check_reload_probe(config, targets, new_leaf, result)
    if failure is None:
        result.lines.append(f"deployed {name} to {', '.join(result.targets)}")
        return result
    result.lines.append(f"{failure}; rolling back")
    return _roll_back(installer, records, targets, served_before, result,
                      reload_needed=stage != "check")


def _changes_pass(config: Config, name: str, targets: Sequence[Target], material: VerifiedLineage,
                  result: DeployResult) -> bool:
    """Compare with what each target serves now, then check revocation; False: refuse."""
    from certbot_safedeploy.deploy.changegate import judge_changes, renewal_facts

    verdict = judge_changes(targets, material, config.source)
    result.lines.extend(verdict.block)
    for finding in verdict.findings:
        result.lines.append(finding.line())
    result.facts = renewal_facts(material, name, verdict.new)
    if verdict.refused:
        return False
    from certbot_safedeploy.deploy.revocation import check_revocation

    revocation = check_revocation(material, verdict.new, config.state_dir)
    if revocation.line:
        result.lines.append(revocation.line)
    return not revocation.refused


def _not_after(material: VerifiedLineage) -> datetime.datetime:
    from certbot_safedeploy.verify.chain import not_after

    return not_after(material.leaf)


def _served(target: Target) -> bytes | None:
    if target.probe is None:
        return None
    try:
        return fetch_served_leaf(target.probe)
    except OSError:
        return None


def client_judge(trust_anchors: Sequence[str], probe: Probe) -> Judge:
    """The probe's chain check: a client with ``trust_anchors`` validates what was served."""
    from certbot_safedeploy.verify.served import judge_served

    trust = load_trust_store(trust_anchors)

    def judge(served: Served) -> str | None:
        if served.source == "none":  # this Python cannot see the chain; the leaf matched
            return None
        verdict = judge_served(served.leaf, served.chain, trust, servername=probe.servername,
                               now=datetime.datetime.now(datetime.timezone.utc), where=str(probe))
        return None if verdict.ok else f"the new certificate is served, but a client rejects it: {verdict.summary()}"

    return judge


def _check_reload_probe(config: Config, targets: Sequence[Target], new_leaf: bytes,
                        result: DeployResult) -> tuple[str | None, str]:
    """Run every check, then every reload, then every probe; first failure wins."""
    for t in targets:
        if t.check:
            outcome = run_command(t.check)
            if not outcome.ok:
                return f"[{t.name}] check {list(t.check)} failed ({outcome.detail})", "check"
    for t in targets:
        if t.reload:
            outcome = run_command(t.reload)
            if not outcome.ok:
                return f"[{t.name}] reload {list(t.reload)} failed ({outcome.detail})", "reload"
    for t in targets:
        if t.probe:
            probed = probe_until(t.probe, new_leaf, client_judge(config.trust_anchors, t.probe))
            if not probed.ok:
                return f"[{t.name}] probe failed: {probed.detail}", "probe"
            result.lines.append(f"[{t.name}] {probed.detail}")
    return None, "done"


def _roll_back(installer: Installer, records: Sequence[Installed], targets: Sequence[Target],
               served_before: dict[str, bytes | None], result: DeployResult, *,
               reload_needed: bool) -> DeployResult:
    """Restore the previous files; reload (unless only a check failed) and probe again."""
    try:
        installer.restore(records)
    except (SafeDeployError, OSError) as exc:
        result.exit_code = ROLLBACK_FAILED
        result.lines.append(f"ROLLBACK FAILED: restoring the previous files: {exc}")
        return result
    restored = [r.dest for r in records if r.changed]
    result.lines.append(f"restored {len(restored)} file(s): {', '.join(restored) or 'none changed'}")
    problems: list[str] = []
    for t in targets:
        if t.reload and reload_needed:
            outcome = run_command(t.reload)
            if not outcome.ok:
                problems.append(f"[{t.name}] reload after restore failed ({outcome.detail})")
    for t in targets:
        if t.probe:
            probed = probe_until(t.probe, served_before.get(t.name))
            if not probed.ok:
                problems.append(f"[{t.name}] probe after restore failed: {probed.detail}")
    if problems:
        result.exit_code = ROLLBACK_FAILED
        result.lines.extend(f"ROLLBACK FAILED: {p}" for p in problems)
    else:
        result.exit_code = ROLLED_BACK
        result.lines.append("rolled back: the previous certificate is installed and served")
    return result
