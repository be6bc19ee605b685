"""``verify --connect HOST:PORT``: what a running service sends, judged as a client would.

One TLS handshake (after a STARTTLS dialogue where asked), then the served leaf
and chain go through the same path validation as a lineage
(:mod:`certbot_safedeploy.verify.served`): trust anchors, the name, validity,
client-grade checks, and the likely cause when no path exists.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Sequence

from certbot_safedeploy.syntax.hostport import split_host_port
from certbot_safedeploy.config.target_section import STARTTLS_PORTS, Probe
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding


class UsageError(ValueError):
    """The HOST:PORT argument is not usable."""


@dataclasses.dataclass
class ConnectReport:
    where: str
    findings: list[Finding]
    ok: bool
    engine: str = ""
    tls_version: str = ""
    sent: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"connect": self.where, "ok": self.ok, "engine": self.engine, "tls_version": self.tls_version,
                "sent": self.sent, "findings": [f.as_dict() for f in self.findings]}


def target(connect: str, servername: str | None, starttls: str | None, timeout: float) -> Probe:
    """The probe to run for ``--connect``; UsageError when ``connect`` is not host[:port]."""
    host, port = split_host_port(connect, STARTTLS_PORTS[starttls] if starttls else 443)
    if port is None or not host:
        raise UsageError(f"--connect {connect!r} is not HOST:PORT")
    return Probe(host, port, servername or host, timeout, starttls)


def _describe_sent(ders: Sequence[bytes]) -> list[str]:
    from cryptography import x509

    from certbot_safedeploy.verify.certinfo import describe, not_after

    out = []
    for der in ders:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            out.append("(unparsable)")
            continue
        out.append(f"{describe(cert)} (expires {not_after(cert):%Y-%m-%d})")
    return out


def check_connect(probe: Probe, trust_anchors: Sequence[str], engine: str | None = None) -> ConnectReport:
    """Connect, handshake, validate; never raises for network or certificate problems."""
    from certbot_safedeploy.deploy.tlsclient import fetch
    from certbot_safedeploy.material.trust import load_trust_store
    from certbot_safedeploy.verify.served import judge_served

    where = str(probe)
    trust = load_trust_store(trust_anchors)
    try:
        served = fetch(probe.host, probe.port, probe.servername, probe.timeout, probe.starttls)
    except OSError as exc:
        text = str(exc) or type(exc).__name__
        return ConnectReport(where, [report.error(where, "connect", f"no TLS handshake: {text}",
                                                  "is the service running, on this port, with TLS enabled?")],
                             False)
    verdict = judge_served(served.leaf, served.chain, trust, servername=probe.servername,
                           now=datetime.datetime.now(datetime.timezone.utc), where=where, engine=engine)
    findings = list(verdict.findings)
    if verdict.cause:
        findings.insert(0, report.error(where, "served-chain", verdict.cause))
    if served.source == "none":
        findings.append(report.warning(where, "served-chain", "this Python cannot read the chain the server "
                                       "sent; judged on the leaf alone", "run with Python 3.9 or newer"))
    sent = _describe_sent((served.leaf, *served.chain))
    findings.insert(0, report.passed(where, "handshake", f"{served.version}; sent {len(sent)} certificate(s): "
                                     + "; ".join(sent) + f"; decided by {verdict.engine}"))
    return ConnectReport(where, findings, verdict.ok, verdict.engine, served.version, sent)
