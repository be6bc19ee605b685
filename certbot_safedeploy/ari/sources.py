"""The lineages ``ari`` checks: certbot's ``renewal/<name>.conf`` files and the certificates they name."""

from __future__ import annotations

import glob
import os
import re
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.ari.cycle import Subject
from certbot_safedeploy.material.renewalconf import RenewalConf, parse_renewal_conf

CERTBOT_DOES_ARI = (4, 1)  # certbot checks ARI in `renew` from 4.1.0
_VERSION = re.compile(r"^(\d{1,4})\.(\d{1,4})")


def certbot_version(text: str) -> tuple[int, int] | None:
    """(major, minor) of a renewal conf's ``version`` (the certbot that last wrote it)."""
    match = _VERSION.match(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def read_conf(path: str) -> RenewalConf:
    name = os.path.basename(path)[: -len(".conf")]
    with open(path, encoding="utf-8", errors="replace") as handle:
        return parse_renewal_conf(name, path, handle.read(256 * 1024))


def read_cert(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        data = handle.read(1 << 20)
    return x509.load_pem_x509_certificate(data)


def subjects_of(config_dir: str, force_ari: bool,
                only: Sequence[str] = ()) -> tuple[list[Subject], list[str], list[str]]:
    """(lineages to check, lines about those left to certbot, lines about those unreadable)."""
    subjects: list[Subject] = []
    lines: list[str] = []
    problems: list[str] = []
    for path in sorted(glob.glob(os.path.join(config_dir, "renewal", "*.conf"))):
        try:
            conf = read_conf(path)
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
            continue
        if only and conf.name not in only:
            continue
        version = certbot_version(conf.top.get("version", ""))
        if version is not None and version >= CERTBOT_DOES_ARI and not force_ari:
            lines.append(f"{conf.name}: certbot {conf.top.get('version')} checks ARI itself: left to it "
                         "(--force-ari to check here too)")
            continue
        server = conf.params.get("server", "")
        cert_path = conf.top.get("cert") or os.path.join(config_dir, "live", conf.name, "cert.pem")
        if not server.startswith("https://"):
            problems.append(f"{path}: no https ACME directory in 'server' ({server[:100]!r}): no ARI check")
            continue
        try:
            subjects.append(Subject(conf.name, read_cert(cert_path), server, conf.top.get("version", "")))
        except OSError as exc:
            problems.append(f"{conf.name}: cannot read {cert_path}: {exc.strerror} (fix: certbot certificates)")
        except ValueError as exc:
            problems.append(f"{conf.name}: {cert_path} is not a PEM certificate: {exc}"[:300])
    return subjects, lines, problems
