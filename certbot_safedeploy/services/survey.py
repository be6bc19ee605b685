"""Gather what ``doctor`` and ``adopt`` report: services' references, pins, proposals (I/O)."""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Sequence

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.services.parse import Reference
from certbot_safedeploy.services.proposal import Proposal, Trapped, classify, propose
from certbot_safedeploy.services.readers import ServiceConfig, read_installed


@dataclasses.dataclass
class Survey:
    services: list[ServiceConfig]
    trapped: dict[tuple[str, str], list[Trapped]]  # (service, lineage) -> references
    protected: list[tuple[ServiceConfig, Reference, str]]
    proposals: dict[tuple[str, str], Proposal]


def current_pins(config_dir: str, lineage: str) -> list[str]:
    """Pin of the key in live/<lineage>/privkey.pem; [] when it cannot be read."""
    from certbot_safedeploy.material.keyfiles import pins_of_file

    try:
        return [pin for pin, _ in pins_of_file(os.path.join(config_dir, "live", lineage, "privkey.pem"))][:1]
    except (SafeDeployError, OSError, ValueError):
        return []


def reuses_key(config_dir: str, lineage: str) -> bool:
    from certbot_safedeploy.material.renewalconf import parse_renewal_conf

    path = os.path.join(config_dir, "renewal", f"{lineage}.conf")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            conf = parse_renewal_conf(lineage, path, handle.read(1 << 20))
    except OSError:
        return False
    return conf.params.get("reuse_key", "False").strip().lower() == "true"


def survey(config_dir: str, config: Config | None, *, system_root: str = "/",
           locations: Mapping[str, str] | None = None, only: Sequence[str] = (),
           connect: str | None = None) -> Survey:
    services = read_installed(system_root, locations, only)
    dirs = sorted({config_dir, os.path.realpath(config_dir)})
    destinations = {f.path: t.name for t in (config.targets if config else ()) for f in t.files}
    result = Survey(services, {}, [], {})
    for service in services:
        trapped, protected = classify(service, dirs, destinations)
        result.protected += [(service, ref, target) for ref, target in protected]
        for t in trapped:
            result.trapped.setdefault((service.service, t.lineage), []).append(t)
    for (name, lineage), trapped_refs in result.trapped.items():
        service = next(s for s in services if s.service == name)
        result.proposals[(name, lineage)] = propose(
            service, lineage, trapped_refs, pins=current_pins(config_dir, lineage),
            reuse_key=reuses_key(config_dir, lineage), connect=connect, system_root=system_root)
    return result
