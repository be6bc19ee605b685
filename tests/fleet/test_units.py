import shutil
import subprocess
import sys
from pathlib import Path

from certbot_safedeploy.fleet import units

REPO_UNITS = Path(__file__).resolve().parents[2] / "systemd"


def test_shipped_unit_files_are_the_rendered_templates():
    assert sorted(p.name for p in REPO_UNITS.glob("certbot-safedeploy-fleet-*")) == sorted(units.TEMPLATES)
    for name in units.TEMPLATES:
        assert units.render(name) == (REPO_UNITS / name).read_text(), name


def test_fleet_units_writes_runnable_units(tmp_path):
    config = tmp_path / "sd.toml"
    config.write_text("[fleet]\nserver = 'web1'\n")
    r = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", "units", "--role", "both",
                        "--dest", str(tmp_path), "--config", str(config)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    service = (tmp_path / "certbot-safedeploy-fleet-pull.service").read_text()
    exec_line = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_line == f"ExecStart={sys.executable} -m certbot_safedeploy fleet pull --config {config}"
    assert (tmp_path / "certbot-safedeploy-fleet-renew.timer").stat().st_mode & 0o777 == 0o644
    assert "enable --now certbot-safedeploy-fleet-pull.timer certbot-safedeploy-fleet-renew.timer" in r.stdout
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run scripts/setup"
    names = [str(p) for p in sorted(tmp_path.glob("certbot-safedeploy-fleet-*"))]
    check = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr
