"""CLI fuzz cases: a generated certbot tree with damaged or hostile files, and one subcommand on it.

The tree is what a real host holds (live/ symlinks into archive/, a renewal config,
the safedeploy config, a trust anchor, state files); hazards replace files with a
FIFO, a directory, a symlink to ``/dev/zero``, a sparse file of gigabytes, or damage
their contents.  The command runs as a subprocess, as certbot or systemd runs it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from tests.fuzz import mutate as m
from tests.fuzz import seeds

REPO = Path(__file__).resolve().parents[2]
CLI_SECONDS = 60.0  # no command may take longer on any input (the probe is not involved)
HAZARDS = ("fifo", "directory", "dev_zero", "dangling", "sparse", "empty", "mutate", "mutate", "mutate", "mutate")
COMMANDS = ("verify_lineage", "verify_files", "pins", "deploy", "deploy_dry", "recover", "doctor", "adopt",
            "manual_auth", "manual_cleanup")


@dataclasses.dataclass
class CliCase:
    command: str
    argv: List[str]
    env: Dict[str, str]
    hazards: List[str]


def build_tree(work: Path) -> Dict[str, Path]:
    s = seeds.pki()
    le = work / "letsencrypt"
    archive, live = le / "archive" / "example.com", le / "live" / "example.com"
    archive.mkdir(parents=True)
    live.mkdir(parents=True)
    files = {"cert": s["leaf"], "chain": s["intermediate"], "fullchain": s["leaf"] + s["intermediate"],
             "privkey": s["leaf_key"]}
    paths: Dict[str, Path] = {}
    for name, data in files.items():
        (archive / f"{name}1.pem").write_bytes(data)
        os.symlink(f"../../archive/example.com/{name}1.pem", live / f"{name}.pem")
        paths[f"archive_{name}"] = archive / f"{name}1.pem"
    os.chmod(archive / "privkey1.pem", 0o600)
    (le / "renewal").mkdir()
    paths["renewal"] = le / "renewal" / "example.com.conf"
    paths["renewal"].write_bytes(seeds.RENEWAL.replace(b"%(live)s", str(live).encode()))
    paths["root"] = work / "root.pem"
    paths["root"].write_bytes(s["root"])
    (work / "tls").mkdir()
    (work / "www").mkdir()
    (work / "system" / "etc" / "cron.d").mkdir(parents=True)
    state = work / "state"
    (state / "journal").mkdir(parents=True)
    paths["config"] = work / "safedeploy.toml"
    paths["config"].write_text(f'''trust_anchors = ["{paths['root']}"]
state_dir = "{state}"
backups = 2

[[target]]
name = "web"
lineage = "example.com"
files = [
  {{ path = "{work / 'tls'}/site.crt", content = ["fullchain"], mode = "0644" }},
  {{ path = "{work / 'tls'}/site.key", content = ["privkey"], mode = "0600" }},
]

[challenge]
webroot_map = {{ "example.com,www.example.com" = "{work / 'www'}" }}
self_check = "off"

[status]
file = "{state}/status.json"
''')
    os.chmod(paths["config"], 0o600)
    paths["journal"] = state / "journal" / "example.com.json"
    paths["manual_state"] = state / "manual-state.json"
    paths["status"] = state / "status.json"
    paths["status"].write_text(json.dumps({"lineages": {}, "targets": {}}))
    paths["manual_state"].write_bytes(json.dumps({"0123456789abcdef": {
        "kind": "http-01", "created": 1.0, "path": str(work / "www" / ".well-known" / "acme-challenge" / "tok"),
        "created_dirs": []}}).encode())
    paths["le"], paths["live"], paths["work"] = le, live, work
    return paths


def _hazard(rng: random.Random, path: Path, kind: str) -> None:
    data = path.read_bytes() if path.is_file() and path.stat().st_size < (1 << 20) else b""
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            return
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "dev_zero":
        os.symlink("/dev/zero", path)
    elif kind == "dangling":
        os.symlink(str(path) + ".missing", path)
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(3 << 30)  # 3 GiB of holes: a reader without a limit never finishes
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        mutators = m.TOML if path.suffix == ".toml" else m.PEM + m.GENERIC if path.suffix == ".pem" else m.GENERIC
        path.write_bytes(m.mutate(rng, data or b"{}", mutators))
        if path.suffix == ".toml":
            os.chmod(path, 0o600)


def generate(rng: random.Random, work: Path, command: Optional[str] = None) -> CliCase:
    p = build_tree(work)
    command = command or rng.choice(COMMANDS)
    exe = [sys.executable, "-m", "certbot_safedeploy"]
    env = dict(os.environ, SAFEDEPLOY_CONFIG=str(p["config"]), PYTHONPATH=str(REPO),
               RENEWED_LINEAGE=str(p["live"]), RENEWED_DOMAINS="example.com")
    candidates = {
        "verify_lineage": ["archive_cert", "archive_chain", "archive_fullchain", "archive_privkey", "root"],
        "verify_files": ["archive_cert", "archive_chain", "root"],
        "pins": ["archive_cert", "archive_privkey"],
        "deploy": ["archive_cert", "archive_chain", "archive_fullchain", "archive_privkey", "root", "config",
                   "journal", "status"],
        "deploy_dry": ["archive_cert", "archive_fullchain", "archive_privkey", "config", "root"],
        "recover": ["config", "journal"],
        "doctor": ["renewal", "archive_cert", "config"],
        "adopt": ["renewal", "config", "archive_cert"],
        "manual_auth": ["config", "manual_state"],
        "manual_cleanup": ["config", "manual_state"],
    }[command]
    hazards = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        name, kind = rng.choice(candidates), rng.choice(HAZARDS)
        if name == "journal" and not p[name].exists():
            p[name].write_text(json.dumps({"direction": "forward", "entries": [
                {"dest": str(p["work"] / "tls" / "site.crt"), "staged": None, "backup": None}]}))
        _hazard(rng, p[name], kind)
        hazards.append(f"{name}:{kind}")
    argv = {
        "verify_lineage": exe + ["verify", str(p["live"]), "--trust-anchor", str(p["root"]), "--domain", "example.com"],
        "verify_files": exe + ["verify", "--cert", str(p["archive_cert"]), "--chain", str(p["archive_chain"]),
                               "--trust-anchor", str(p["root"])],
        "pins": exe + ["pins", str(p["archive_cert"]), str(p["archive_privkey"])],
        "deploy": exe + ["deploy", "--config", str(p["config"]), "--lineage", str(p["live"])],
        "deploy_dry": exe + ["deploy", "--dry-run", "--config", str(p["config"]), "--lineage", str(p["live"])],
        "recover": exe + ["recover", "--config", str(p["config"])],
        "doctor": exe + ["doctor", "--config-dir", str(p["le"]), "--config", str(p["config"]),
                         "--system-root", str(p["work"] / "system")],
        "adopt": exe + ["adopt", "example.com", "--config-dir", str(p["le"]), "--config", str(p["config"]),
                        "--system-root", str(p["work"] / "system")],
        "manual_auth": [sys.executable, str(REPO / "hooks" / "manual-auth")],
        "manual_cleanup": [sys.executable, str(REPO / "hooks" / "manual-cleanup")],
    }[command]
    if command.startswith("manual"):
        values = [b"example.com", b"tok_en-1.thumb", b"tok_en-1", b"0", b"0123456789abcdef"]
        for i, key in enumerate(("CERTBOT_DOMAIN", "CERTBOT_VALIDATION", "CERTBOT_TOKEN",
                                 "CERTBOT_REMAINING_CHALLENGES", "CERTBOT_AUTH_OUTPUT")):
            value = m.mutate(rng, values[i], m.GENERIC) if rng.randrange(3) == 0 else values[i]
            env[key] = value.replace(b"\x00", b"").decode("utf-8", "surrogateescape")[:4000]
            if rng.randrange(10) == 0:
                del env[key]
    return CliCase(command, argv, env, hazards)


def run(case: CliCase, timeout: float = CLI_SECONDS) -> Optional[str]:
    """None when the command ended with its own error or success; else what went wrong."""
    try:
        proc = subprocess.run(case.argv, env=case.env, capture_output=True, timeout=timeout, cwd=str(REPO),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"hang: {case.command} ran over {timeout:.0f} s ({', '.join(case.hazards)})"
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    # the last nets (cli.main, the pipeline, the hooks) turn a bug into one line that says "report this":
    # for the fuzz suite that is a crash like a traceback
    if "Traceback (most recent call last)" in out or "report this" in out or "ROLLBACK FAILED: unexpected" in out:
        return f"traceback from {case.command} ({', '.join(case.hazards)}):\n{out[-3000:]}"
    if proc.returncode not in (0, 1, 2, 3, 4):
        return f"{case.command} exited {proc.returncode} ({', '.join(case.hazards)}):\n{out[-2000:]}"
    if proc.returncode != 0 and not proc.stderr.strip() and not proc.stdout.strip():
        return f"{case.command} failed (exit {proc.returncode}) without a line ({', '.join(case.hazards)})"
    return None
