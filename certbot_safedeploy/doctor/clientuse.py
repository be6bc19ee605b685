"""``doctor`` and ``adopt``: services that present a certbot certificate as a TLS *client* certificate.

Postfix ``smtp_tls_cert_file``/``smtp_tls_chain_files``, slapd ``olcSyncrepl ... tls_cert=``,
nginx ``proxy_ssl_certificate``, Apache ``SSLProxyMachineCertificateFile``, HAProxy
``server ... crt`` and PostgreSQL ``primary_conninfo ... sslcert=`` (found by
:mod:`certbot_safedeploy.services.uses`, each with file and line).  Public CAs stopped
issuing clientAuth in 2026, so each such use is reported:

* installed by a target that does not declare ``uses = ["server", "client"]``: a
  warning with that line as the fix (declared: passed, the gate guards it);
* read straight from live/ or archive/: a warning (the live/ trap is an error already);
* a certificate there now that lacks clientAuth: an error, peers refuse it today.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Sequence

from certbot_safedeploy.config.model import Config
from certbot_safedeploy.services.proposal import Proposal, trapped_lineage
from certbot_safedeploy.services.readers import installed
from certbot_safedeploy.services.usereaders import read_uses
from certbot_safedeploy.services.uses import CLIENT, Use
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.report import Finding


def client_uses(system_root: str = "/", locations: Mapping[str, str] | None = None,
                only: Sequence[str] = ()) -> list[Use]:
    found: list[Use] = []
    for service, config, _ in installed(system_root, locations, only):
        uses, _ = read_uses(service, config)
        found += [u for u in uses if u.kind == CLIENT]
    return found


def _lacks_client_auth(path: str) -> bool:
    from certbot_safedeploy.deploy.deployed import read_certificates
    from certbot_safedeploy.verify.leaffacts import leaf_facts

    certs = read_certificates(os.path.realpath(path))
    return bool(certs) and not leaf_facts(certs[0], certs[1:]).client_auth


def client_use_findings(uses: Sequence[Use], config: Config | None, config_dir: str) -> list[Finding]:
    dirs = sorted({config_dir, os.path.realpath(config_dir)})
    by_path = {f.path: t for t in (config.targets if config else ()) for f in t.files}
    out: list[Finding] = []
    for use in uses:
        what = f"{use.service} {use.setting} presents {use.value} as a TLS client certificate"
        target = by_path.get(os.path.normpath(use.value))
        trapped = trapped_lineage(use.value, dirs)
        if target is not None and "client" in target.uses:
            out.append(report.passed(use.where, "client-use", f"{what}; target {target.name!r} declares it"))
        elif target is not None:
            out.append(report.warning(
                use.where, "client-use", f"{what}; target {target.name!r} installs it but does not declare "
                "client use, so a renewal without clientAuth would only be caught if the service is read",
                f"add uses = [\"server\", \"client\"] to target {target.name!r}"))
        elif trapped is not None:
            out.append(report.warning(
                use.where, "client-use", f"{what} straight from certbot's {trapped[1]}/{trapped[0]}: a renewal "
                "without clientAuth (Let's Encrypt classic since 2026-02-11) reaches it unchecked",
                f"certbot-safedeploy adopt {trapped[0]} --service {use.service}, which declares the client use"))
        else:
            continue
        if _lacks_client_auth(use.value):
            out.append(report.error(
                use.where, "client-use", f"{what}, but that certificate has no clientAuth extended key usage: "
                "peers that check it refuse the connection now",
                f"point {use.setting} at a client certificate from a private CA, or use a CA profile that "
                "still issues clientAuth"))
    return out


def declare_client_use(proposals: Sequence[Proposal], uses: Sequence[Use], config_dir: str,
                       lineage: str) -> list[Proposal]:
    """``adopt``: a proposed target whose service also presents the lineage as a client declares it."""
    dirs = sorted({config_dir, os.path.realpath(config_dir)})
    out = []
    for p in proposals:
        mine = [u for u in uses if u.service == p.service and (trapped_lineage(u.value, dirs) or ("", ""))[0]
                == lineage]
        if not mine:
            out.append(p)
            continue
        target = p.target.rstrip("\n") + '\nuses = ["server", "client"]\n'
        changes = p.changes + tuple(
            f"{u.where}: point {u.setting} at {p.tls_dir}/{os.path.basename(u.value)} (client use: the gate "
            "refuses a renewal without clientAuth)" for u in mine)
        out.append(dataclasses.replace(p, target=target, changes=changes))
    return out
