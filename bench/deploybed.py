"""The deploy config both deploy benchmarks use (bench/deploy.py, bench/gatechanges.py): one
lineage deployed to two targets, a web server's cert and key and HAProxy's combined file."""

from __future__ import annotations

import os
from pathlib import Path


def two_target_config(base: Path, anchor: str, dest: Path, extra: str = "") -> Path:
    """Write ``base/safedeploy.toml`` (0600) and return its path; ``extra`` goes before the targets."""
    config = base / "safedeploy.toml"
    config.write_text(f"""trust_anchors = ["{anchor}"]
state_dir = "{base / 'state'}"
{extra}[[target]]
name = "web"
lineage = "example.com"
files = [ {{ path = "{dest}/site.crt", content = ["fullchain"] }},
          {{ path = "{dest}/site.key", content = ["privkey"] }} ]
reload = ["true"]
[[target]]
name = "haproxy"
lineage = "example.com"
files = [ {{ path = "{dest}/haproxy.pem", content = ["fullchain", "privkey"] }} ]
reload = ["true"]
""")
    os.chmod(config, 0o600)
    return config
