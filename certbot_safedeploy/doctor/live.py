"""``doctor --live``: try each webroot and each nsupdate server for real."""

from __future__ import annotations

import secrets

from certbot_safedeploy.challenges.dns01 import Dns01Solver
from certbot_safedeploy.challenges.http01 import Http01Solver, HttpChallenge
from certbot_safedeploy.config.challenge_section import ChallengeSettings
from certbot_safedeploy.syntax.acme_values import normalize_webroot_map
from certbot_safedeploy.config.model import Config
from certbot_safedeploy.errors import ChallengeError, SafeDeployError
from certbot_safedeploy.syntax.numbers import parse_port
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding
from certbot_safedeploy.doctor.snapshot import Snapshot
from certbot_safedeploy.syntax.jsontext import parse_json


def _settings_in_use(snap: Snapshot, config: Config | None, problems: list[Finding] | None = None
                     ) -> list[tuple[str, ChallengeSettings, list[str]]]:
    """(source, settings, names) for the [challenge] table and each safedeploy renewal conf; a renewal
    conf whose safedeploy values cannot be read is a finding in ``problems``, not a traceback."""
    found: list[tuple[str, ChallengeSettings, list[str]]] = []
    if config and config.challenge:
        s = config.challenge
        found.append((config.source, s, sorted(s.webroot_map)))
    for lineage in snap.lineages:
        p = lineage.conf.params
        if p.get("authenticator") != "safedeploy":
            continue

        def get(key: str) -> str | None:
            value = p.get(key, "None")
            return None if value == "None" else value

        try:
            http_port = parse_port(get("safedeploy_http_port") or "80")
            dns_text = get("safedeploy_dns_port")
            dns_port = parse_port(dns_text) if dns_text else None
            if http_port is None or (dns_text and dns_port is None):
                raise ChallengeError("safedeploy_http_port / safedeploy_dns_port is not a port (1-65535)")
            webroot_map = parse_json(get("safedeploy_webroot_map") or "{}")
            if not isinstance(webroot_map, dict):
                raise ChallengeError("safedeploy_webroot_map is not a JSON object")
            s = ChallengeSettings(
                webroot=get("safedeploy_webroot"), webroot_map=normalize_webroot_map(webroot_map),
                http_port=http_port, self_check_address=get("safedeploy_self_check_address"),
                nsupdate_server=get("safedeploy_nsupdate_server"), tsig_key=get("safedeploy_tsig_key"),
                dns_port=dns_port, propagation_timeout=30)
        except (SafeDeployError, ValueError, RecursionError) as exc:
            if problems is not None:
                problems.append(report.error(lineage.conf.path, "renewal-conf", f"{lineage.name}: {exc}",
                                             f"certbot reconfigure --cert-name {lineage.name}, or restore the "
                                             "renewal config"))
            continue
        found.append((lineage.conf.path, s, [lineage.name]))
    return found


def live_checks(snap: Snapshot, config: Config | None, system_root: str = "/") -> list[Finding]:
    from certbot_safedeploy.config.load import DEFAULT_STATE_DIR
    from certbot_safedeploy.doctor.ariwindows import ari_findings

    out = ari_findings(snap.config_dir, config.state_dir if config else DEFAULT_STATE_DIR, system_root)
    for source, settings, names in _settings_in_use(snap, config, out):
        for name in names:
            if settings.webroot_for(name):
                token = secrets.token_urlsafe(16)
                try:
                    created = Http01Solver(strict(settings)).perform(
                        [HttpChallenge(name, token, f"{token}.safedeploy-doctor")])
                    Http01Solver.cleanup(created)
                    out.append(report.passed(source, "live-webroot", f"{name}: probe file served"))
                except SafeDeployError as exc:
                    out.append(report.error(source, "live-webroot", str(exc), exc.fix))
        if settings.nsupdate_server and names:
            value = "safedeploy-doctor-" + secrets.token_hex(4)
            try:
                solver = Dns01Solver(settings)
                records = solver.perform([(f"_acme-challenge.{names[0].lstrip('*.')}", value)])
                solver.remove(records)
                out.append(report.passed(source, "live-nsupdate",
                                         f"{settings.nsupdate_server}: probe TXT reached every authoritative server"))
            except SafeDeployError as exc:
                out.append(report.error(source, "live-nsupdate", str(exc), exc.fix))
    return out


def strict(settings: ChallengeSettings) -> ChallengeSettings:
    """Live probes are strict: an unreachable webroot is an error here, not a warning."""
    import dataclasses

    return dataclasses.replace(settings, self_check="strict")
