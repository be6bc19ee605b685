"""``fleet pull``: fetch each enrolled name's newest certificate, verify, install, report.

One check-in statement fetches every enrolled name; a name whose published
certificate is the one installed here (same serial and SHA-256) costs nothing
more, and needs neither cryptography nor the deploy pipeline.  Anything new
goes through :func:`certbot_safedeploy.deploy.pipeline.deploy_data` with the
local key, so it is verified (key match, chain, trust, names, validity) before
anything live changes, and rolled back if the service does not serve it.

If the store is unreachable nothing changes and the run fails.  Two pulls on
one host take turns (a flock); the second then finds nothing new.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..config import Config
from ..errors import FleetError
from .localstate import KEY, NEXT_KEY, Enrollment, Installed, LocalFleet, fingerprint
from .settings import FleetSettings
from .store import Published, ServerReport, Store

OK, FAILED, ROLLED_BACK, ROLLBACK_FAILED = 0, 1, 3, 4


@dataclasses.dataclass
class NameOutcome:
    name: str
    outcome: str  # unchanged, deployed, awaiting issuance, refused, rolled back, ...
    exit_code: int
    serial: str | None = None
    lines: list[str] = dataclasses.field(default_factory=list)
    report: ServerReport | None = None


@dataclasses.dataclass
class PullRun:
    outcomes: list[NameOutcome] = dataclasses.field(default_factory=list)
    lines: list[str] = dataclasses.field(default_factory=list)
    exit_code: int = OK


def _pem(text: str) -> bytes:
    data = text.encode("ascii", "replace")
    return data if data.endswith(b"\n") else data + b"\n"


def _choose_key(local: LocalFleet, name: str, cert_pem: bytes) -> tuple[bytes | None, str]:
    """The local key (current or a rekey's next) whose public key the certificate carries."""
    current = local.read_key(name, KEY)
    pending = local.read_key(name, NEXT_KEY)
    if pending is None:
        return current, KEY
    from .csr import key_pin
    from cryptography import x509
    from ..verify.pins import pin_of_certificate

    try:
        cert_pin = pin_of_certificate(x509.load_pem_x509_certificate(cert_pem))
    except ValueError:
        return current, KEY  # unparsable: verification refuses it with the reason
    return (pending, NEXT_KEY) if key_pin(pending) == cert_pin else (current, KEY)


def _deploy(config: Config, local: LocalFleet, label: str, e: Enrollment, p: Published) -> NameOutcome:
    from ..deploy.pipeline import DEPLOYED, deploy_data
    from ..verify.lineage import CERT, CHAIN, FULLCHAIN, PRIVKEY, LineageData

    assert p.serial is not None and p.cert_pem is not None and p.chain_pem is not None
    out = NameOutcome(e.name, "refused", FAILED, p.serial)
    if not config.targets_for(e.name):
        out.lines.append(f"{e.name}: no [[target]] with lineage = {e.name!r} in {config.source}; "
                         "nothing installed (fix: add a target for it)")
        return out
    cert, chain = _pem(p.cert_pem), _pem(p.chain_pem)
    key, key_file = _choose_key(local, e.name, cert)
    if key is None:
        out.lines.append(f"{local.path(e.name, KEY)}: the private key is missing; nothing installed "
                         f"(fix: `fleet rekey {e.name}` makes a new key and CSR)")
        return out
    where = f"{label} [{e.name} serial {p.serial}]"
    contents = {CERT: cert, CHAIN: chain, FULLCHAIN: cert + chain, PRIVKEY: key}
    result = deploy_data(config, e.name, lambda: LineageData(where, contents, {}), e.domains)
    out.lines.extend(result.lines)
    out.outcome, out.exit_code = result.outcome, result.exit_code
    if result.exit_code == DEPLOYED:
        local.record_installed(e.name, Installed(p.serial, fingerprint(p.cert_pem, p.chain_pem)))
        if key_file == NEXT_KEY:
            local.promote_next_key(e.name)
            out.lines.append(f"{e.name}: the rekeyed certificate is live; the new key replaced the old one")
    return out


def _report_for(out: NameOutcome, config: Config, installed: Installed | None) -> ServerReport:
    probed = any(t.probe for t in config.targets_for(out.name))
    current = installed.serial if installed else None
    if out.outcome == "rollback failed":
        current = None
    detail = "; ".join(out.lines[-6:])
    return ServerReport(out.name, out.outcome, current, current if probed else None, detail)


def pull(config: Config, settings: FleetSettings, store: Store, local: LocalFleet, *, now: int,
         names: Sequence[str] = (), lock_timeout: float = 600.0) -> PullRun:
    run = PullRun()
    with local.pull_lock(lock_timeout):
        enrolled = [e for e in local.enrolled() if not names or e.name in names]
        unknown = sorted(set(names) - {e.name for e in enrolled})
        for name in unknown:
            run.lines.append(f"{name}: not enrolled on this server (fix: fleet enroll {name} --domain ...)")
            run.exit_code = FAILED
        if not enrolled:
            run.lines.append(f"no names enrolled in {local.directory}")
            return run
        published = store.checkin(settings.server, [e.name for e in enrolled], now)
        reports: list[ServerReport] = []
        for e in enrolled:
            out = _pull_one(config, local, store.label, e, published.get(e.name))
            if out.report is not None:
                reports.append(out.report)
            run.outcomes.append(out)
            run.exit_code = max(run.exit_code, out.exit_code)
        try:
            store.report(settings.server, reports, now)
        except FleetError as exc:
            run.lines.append(f"could not report back ({exc}); the next pull reports again")
            run.exit_code = max(run.exit_code, FAILED)
    return run


def _pull_one(config: Config, local: LocalFleet, label: str, e: Enrollment,
              p: Published | None) -> NameOutcome:
    if p is None:
        return NameOutcome(e.name, "not in store", FAILED, lines=[
            f"{e.name}: enrolled here but the store has no row for server of this host "
            f"(fix: fleet enroll {e.name} --domain ... again, or --takeover if it moved)"])
    installed = local.installed(e.name)
    if p.serial is None or p.cert_pem is None or p.chain_pem is None:
        return NameOutcome(e.name, "awaiting issuance", OK, lines=[
            f"{e.name}: no certificate published yet (the central host's fleet renew issues it)"])
    if installed and installed.serial == p.serial and installed.sha256 == fingerprint(p.cert_pem, p.chain_pem):
        out = NameOutcome(e.name, "unchanged", OK, p.serial, [f"{e.name}: serial {p.serial} is installed"])
        if p.reported_installed != installed.serial:  # an earlier report was lost
            out.report = _report_for(dataclasses.replace(out, outcome="deployed"), config, installed)
        return out
    out = _deploy(config, local, label, e, p)
    out.report = _report_for(out, config, local.installed(e.name))
    return out
