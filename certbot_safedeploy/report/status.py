"""The status file and the Prometheus node-exporter textfile.

    [status]
    file = "/var/lib/certbot-safedeploy/status.json"      # default
    prometheus = "/var/lib/prometheus/node-exporter/certbot_safedeploy.prom"  # optional

Both are written atomically through :mod:`certbot_safedeploy.system.fsutil`, so the
node exporter never reads half a file.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import time
from typing import Any, Mapping

from certbot_safedeploy.system import fsutil, readfile
from certbot_safedeploy.syntax.jsontext import parse_json

DEFAULT_FILE = "/var/lib/certbot-safedeploy/status.json"


@dataclasses.dataclass(frozen=True)
class StatusSettings:
    """Where the ``[status]`` table says the status file and the textfile go."""

    file: str = DEFAULT_FILE
    prometheus: str | None = None


STATUS_CODES = {"deployed": 0, "refused": 1, "rolled back": 3, "rollback failed": 4}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _entries(status: Mapping[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    """The well-formed entries of ``status[key]`` (a hand-edited or damaged file may hold anything)."""
    table = status.get(key)
    if not isinstance(table, dict):
        return []
    return sorted((str(k), v) for k, v in table.items() if isinstance(v, dict))


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e15 < value < 1e15:
        return None
    return float(value)


def render_prometheus(status: Mapping[str, Any]) -> str:
    """Text exposition format (pure); entries of the wrong shape are left out."""
    lines = [
        "# HELP certbot_safedeploy_cert_expiry_timestamp_seconds notAfter of the lineage's certificate",
        "# TYPE certbot_safedeploy_cert_expiry_timestamp_seconds gauge",
    ]
    for name, lineage in _entries(status, "lineages"):
        epoch = _finite(lineage.get("not_after_epoch"))
        if epoch is not None:
            lines.append(f'certbot_safedeploy_cert_expiry_timestamp_seconds{{lineage="{_escape(name)}"}} '
                         f"{epoch:.0f}")
    lines += _lineage_gauges(status)
    lines += [
        "# HELP certbot_safedeploy_last_deploy_success_timestamp_seconds last successful deploy per target",
        "# TYPE certbot_safedeploy_last_deploy_success_timestamp_seconds gauge",
    ]
    targets = _entries(status, "targets")
    for name, target in targets:
        epoch = _finite(target.get("last_success_epoch"))
        if epoch is not None:
            lines.append(f'certbot_safedeploy_last_deploy_success_timestamp_seconds{{target="{_escape(name)}"}} '
                         f"{epoch:.0f}")
    lines += [
        "# HELP certbot_safedeploy_last_deploy_status exit code of the last deploy (0 deployed, 1 refused, "
        "3 rolled back, 4 rollback failed)",
        "# TYPE certbot_safedeploy_last_deploy_status gauge",
    ]
    for name, target in targets:
        code = _finite(target.get("last_status"))
        if code is not None:
            lines.append(f'certbot_safedeploy_last_deploy_status{{target="{_escape(name)}"}} {code:.0f}')
    return "\n".join(lines) + "\n"


_GAUGES: tuple[tuple[str, str, str, float], ...] = (
    ("certbot_safedeploy_cert_lifetime_seconds", "lifetime (notAfter - notBefore) of the deployed certificate",
     "lifetime_days", 86400.0),
    ("certbot_safedeploy_cert_days_left", "days the deployed certificate had left when it was deployed",
     "days_left", 1.0),
    ("certbot_safedeploy_cert_renewal_timestamp_seconds", "when certbot will renew it (its version's rule "
     "or renew_before_expiry)", "renewal_epoch", 1.0),
)


def _lineage_gauges(status: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    lineages = _entries(status, "lineages")
    for metric, text, key, scale in _GAUGES:
        values = [(name, value * scale) for name, e in lineages if (value := _finite(e.get(key))) is not None]
        if not values:
            continue
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} gauge"]
        lines += [f'{metric}{{lineage="{_escape(n)}"}} {v:.3f}'.rstrip("0").rstrip(".") for n, v in values]
    return lines


def record_deploy(settings: StatusSettings | None, lineage: str, targets: list[str], outcome: str,
                  exit_code: int, not_after: datetime.datetime | None,
                  facts: Mapping[str, float] | None = None) -> None:
    """Record one deploy; ``facts`` (lifetime_days, not_before_epoch, renewal_epoch) describe
    the certificate deployed and are kept only when it was."""
    settings = settings or StatusSettings()
    path = settings.file
    try:
        status: Any = parse_json(readfile.read_text(path, 16 << 20))
    except (OSError, ValueError, RecursionError):  # missing, damaged or not ours: start again
        status = {}
    if not isinstance(status, dict):
        status = {}
    for key in ("lineages", "targets"):
        if not isinstance(status.get(key), dict):
            status[key] = {}
    now = time.time()
    lineages = status["lineages"]
    if not isinstance(lineages.get(lineage), dict):
        lineages[lineage] = {}
    entry = lineages[lineage]
    entry.update({"last_attempt_epoch": now, "last_outcome": outcome})
    if not_after is not None and exit_code == 0:
        entry["not_after_epoch"] = not_after.timestamp()
        entry["not_after"] = not_after.isoformat()
        entry["days_left"] = round((not_after.timestamp() - now) / 86400, 3)
        for key, value in (facts or {}).items():
            entry[key] = value
        if facts and "renewal_epoch" in facts:
            entry["renewal"] = datetime.datetime.fromtimestamp(facts["renewal_epoch"],
                                                               datetime.timezone.utc).isoformat()
    for name in targets:
        if not isinstance(status["targets"].get(name), dict):
            status["targets"][name] = {}
        target = status["targets"][name]
        target.update({"lineage": lineage, "last_attempt_epoch": now, "last_outcome": outcome,
                       "last_status": exit_code})
        if exit_code == 0:
            target["last_success_epoch"] = now
            if not_after is not None:
                target["served_not_after"] = not_after.isoformat()
    fsutil.make_private_dir(os.path.dirname(path), mode=0o755)
    fsutil.write_file_atomic(path, json.dumps(status, indent=1, sort_keys=True).encode(),
                             fsutil.FileSpec(mode=0o644))
    prom = settings.prometheus
    if prom:
        fsutil.write_file_atomic(str(prom), render_prometheus(status).encode(), fsutil.FileSpec(mode=0o644))
