import os
import subprocess
import sys
from pathlib import Path

from certbot_safedeploy.commands.hookscripts import HOOKS, render

REPO = Path(__file__).resolve().parents[2]


def test_repo_hooks_are_the_rendered_template():
    for name in HOOKS:
        path = REPO / "hooks" / name
        assert path.read_text() == render(name), f"hooks/{name} drifted: regenerate it from hookscripts.render"
        assert os.access(path, os.X_OK)


def run(*args):
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "install", *args],
                          capture_output=True, text=True, timeout=60)


def test_install_is_idempotent_and_hooks_run(tmp_path, bed):
    le = tmp_path / "le"
    proc = run("--config-dir", str(le), "--config", str(bed.config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("installed ") == 3 and "OK (2 target(s))" in proc.stdout
    hook = le / "renewal-hooks" / "deploy" / "50-safedeploy"
    assert hook.read_text().startswith(f"#!{sys.executable}\n") and (hook.stat().st_mode & 0o777) == 0o755
    again = run("--config-dir", str(le), "--config", str(bed.config))
    assert again.stdout.count("unchanged ") == 3
    # the installed deploy hook really deploys, as certbot would call it
    env = dict(os.environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com",
               SAFEDEPLOY_CONFIG=str(bed.config))
    done = subprocess.run([str(hook)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (bed.dest / "site.crt").read_bytes() == (bed.live / "fullchain.pem").read_bytes()


def test_install_reports_a_bad_config(tmp_path, bed):
    bed.config.write_text("[[target]]\nname = 3\n")
    proc = run("--config-dir", str(tmp_path / "le"), "--config", str(bed.config))
    assert proc.returncode == 1 and "ERROR" in proc.stdout and "target[0]: missing required key" in proc.stdout
