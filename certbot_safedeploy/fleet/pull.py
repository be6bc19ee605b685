"""``fleet pull``: fetch each enrolled name's newest certificate, verify, install, report.

One check-in statement fetches every enrolled name; a name whose published
certificate is the one installed here (same serial and SHA-256) costs nothing
more, and needs neither cryptography nor the deploy pipeline.  Anything new
goes through :func:`certbot_safedeploy.deploy.pipeline.deploy_data` with the
local key, so it is verified (key match, chain, trust, names, validity) before
anything live changes, and rolled back if the service does not serve it.

If the store is unreachable nothing changes and the run fails.  Two pulls on
one host take turns (a flock); the second then finds nothing new.

Every ``reprobe_minutes`` an unchanged name's probe runs again, so a
certificate swapped by hand shows up in ``fleet status`` ("drift").  A deploy
that failed (refused or rolled back) is not retried for the same certificate
until its back-off has passed (15 min, 1 h, 4 h, ...), so a broken reload does
not reload the service on every timer tick; ``--retry-now`` skips the wait.
"""

from __future__ import annotations

import dataclasses
import base64
from typing import Protocol, Sequence

from certbot_safedeploy.config.target_section import Probe

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.localstate import KEY, NEXT_KEY, Enrollment, Installed, LocalFleet, Retry, fingerprint
from certbot_safedeploy.fleet.rules.renewal_policy import backoff_seconds
from certbot_safedeploy.config.fleet_section import FleetSettings
from certbot_safedeploy.fleet.db.wire import Published, ServerReport


class StoreClient(Protocol):
    label: str

    def checkin(self, server: str, names: Sequence[str], now: int) -> dict[str, Published]: ...

    def report(self, server: str, reports: Sequence[ServerReport], now: int) -> None: ...

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
    from certbot_safedeploy.fleet.rules.csr import key_pin
    from cryptography import x509
    from certbot_safedeploy.verify.pincheck import pin_of_certificate

    try:
        cert_pin = pin_of_certificate(x509.load_pem_x509_certificate(cert_pem))
    except ValueError:
        return current, KEY  # unparsable: verification refuses it with the reason
    return (pending, NEXT_KEY) if key_pin(pending) == cert_pin else (current, KEY)


def _deploy(config: Config, local: LocalFleet, label: str, e: Enrollment, p: Published) -> NameOutcome:
    from certbot_safedeploy.deploy.pipeline import DEPLOYED, deploy_data
    from certbot_safedeploy.verify.lineagecheck import CERT, CHAIN, FULLCHAIN, PRIVKEY, LineageData

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


def pull(config: Config, settings: FleetSettings, store: StoreClient, local: LocalFleet, *, now: int,
         names: Sequence[str] = (), lock_timeout: float = 600.0, retry_now: bool = False) -> PullRun:
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
        job = _Job(config, settings, local, store.label, now, retry_now)
        for e in enrolled:
            out = job.pull_one(e, published.get(e.name))
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


@dataclasses.dataclass(frozen=True)
class _Job:
    config: Config
    settings: FleetSettings
    local: LocalFleet
    label: str
    now: int
    retry_now: bool

    def pull_one(self, e: Enrollment, p: Published | None) -> NameOutcome:
        if p is None:
            return NameOutcome(e.name, "not in store", FAILED, lines=[
                f"{e.name}: enrolled here but the store has no row for server of this host "
                f"(fix: fleet enroll {e.name} --domain ... again, or --takeover if it moved)"])
        if p.refusal:
            return NameOutcome(e.name, "not accepted", FAILED, lines=[
                f"{e.name}: the central host refused this server's enrollment: {p.refusal}"])
        installed = self.local.installed(e.name)
        if p.serial is None or p.cert_pem is None or p.chain_pem is None:
            return NameOutcome(e.name, "awaiting issuance", OK, lines=[
                f"{e.name}: no certificate published yet (the central host's fleet renew issues it)"])
        sha = fingerprint(p.cert_pem, p.chain_pem)
        if installed and installed.serial == p.serial and installed.sha256 == sha:
            return self._unchanged(e, p, installed)
        retry = self.local.retry(e.name)
        if retry and (retry.serial, retry.sha256) == (p.serial, sha) and self.now < retry.next_at \
                and not self.retry_now:
            return NameOutcome(e.name, "backing off", OK, p.serial, [
                f"{e.name}: serial {p.serial} failed here {retry.failures} time(s); next try in "
                f"{-(-(retry.next_at - self.now) // 60)} min (fleet pull --retry-now tries at once)"])
        out = _deploy(self.config, self.local, self.label, e, p)
        if out.exit_code != OK:
            failures = retry.failures + 1 if retry and (retry.serial, retry.sha256) == (p.serial, sha) else 1
            self.local.record_retry(e.name, Retry(p.serial, sha, failures, self.now + backoff_seconds(failures)))
        out.report = _report_for(out, self.config, self.local.installed(e.name))
        return out

    def _unchanged(self, e: Enrollment, p: Published, installed: Installed) -> NameOutcome:
        out = NameOutcome(e.name, "unchanged", OK, p.serial, [f"{e.name}: serial {p.serial} is installed"])
        probes = [t.probe for t in self.config.targets_for(e.name) if t.probe]
        due = self.now - installed.probed_at >= self.settings.reprobe_minutes * 60
        if probes and due and p.cert_pem is not None:
            served, detail = _served_serial(probes, p.cert_pem, installed.serial)
            self.local.record_installed(e.name, dataclasses.replace(installed, probed_at=self.now))
            if served != installed.serial:
                out.outcome, out.exit_code = ("drift" if served else "probe failed"), FAILED
                out.lines = [f"{e.name}: {detail}; installed serial {installed.serial} (fix: find out who "
                             f"changed it; to deploy the published certificate again, remove "
                             f"{self.local.path(e.name, 'installed.json')} and pull)"]
                if p.reported_served != served or p.reported_installed != installed.serial:
                    out.report = ServerReport(e.name, out.outcome, installed.serial, served, out.lines[0])
                return out
            if p.reported_served != served:  # drift repaired, or the first probe since an upgrade
                out.report = _report_for(dataclasses.replace(out, outcome="deployed"), self.config, installed)
                return out
        if p.reported_installed != installed.serial:  # an earlier report was lost
            out.report = _report_for(dataclasses.replace(out, outcome="deployed"), self.config, installed)
        return out


def _der_of(pem: str) -> bytes:
    body = pem.split("-----BEGIN CERTIFICATE-----", 1)[-1].split("-----END CERTIFICATE-----", 1)[0]
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        return b""


def _served_serial(probes: list[Probe], cert_pem: str, installed_serial: str) -> tuple[str | None, str]:
    """(serial served, what was seen) over every probe of the name; None if a probe failed."""
    import ssl

    from certbot_safedeploy.deploy.service import fetch_served_leaf

    expected = _der_of(cert_pem)
    for probe in probes:
        try:
            der = fetch_served_leaf(probe)
        except (OSError, ssl.SSLError) as exc:
            return None, f"re-probe of {probe.host}:{probe.port} failed: {exc}"
        if der != expected:
            try:
                from cryptography import x509

                serial = format(x509.load_der_x509_certificate(der).serial_number, "x")
            except ValueError:
                serial = "unparsable"
            return serial, (f"drift: {probe.host}:{probe.port} (SNI {probe.servername}) serves serial {serial}, "
                            "not the installed certificate")
    return installed_serial, "serves the installed certificate"
