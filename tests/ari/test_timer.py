"""The ARI timer: shipped in systemd/ (and so in the Debian package), written by install --ari, never enabled."""

import shutil
import subprocess
import sys
from pathlib import Path

from certbot_safedeploy.ari import timer

REPO = Path(__file__).resolve().parents[2]


def test_shipped_units_are_the_rendered_templates():
    for name in timer.TEMPLATES:
        assert timer.render(name) == (REPO / "systemd" / name).read_text(), name
    install = (REPO / "debian" / "python3-certbot-safedeploy.install").read_text()
    assert "systemd/*.timer" in install and "systemd/*.service" in install
    assert "--no-enable --no-start" in (REPO / "debian" / "rules").read_text()


def test_install_ari_writes_the_units_and_enables_nothing(tmp_path):
    units = tmp_path / "units"
    argv = [sys.executable, "-m", "certbot_safedeploy", "install", "--config-dir", str(tmp_path / "le"),
            "--config", str(tmp_path / "none.toml"), "--ari", "--units-dir", str(units)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"installed {units}/certbot-safedeploy-ari.timer" in proc.stdout
    assert "the ARI timer is not enabled; to enable it: systemctl daemon-reload && systemctl enable --now " \
           "certbot-safedeploy-ari.timer" in proc.stdout
    service = (units / "certbot-safedeploy-ari.service").read_text()
    assert f"ExecStart={sys.executable} -m certbot_safedeploy ari --config-dir /etc/letsencrypt --config " \
           f"{tmp_path}/none.toml --interval 25200" in service
    assert not list(units.glob("*.wants"))
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert again.stdout.count("unchanged ") == 5  # 3 hooks, 2 units
    assert shutil.which("systemd-analyze")
    check = subprocess.run(["systemd-analyze", "verify", *map(str, sorted(units.glob("*")))],
                           capture_output=True, text=True)
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr
