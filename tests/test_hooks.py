"""Hook failures: one line on stderr, non-zero exit, and a report on the notify channels."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_failing_auth_hook_notifies_and_prints_one_line(tmp_path):
    report = tmp_path / "report.json"
    webroot = tmp_path / "www"
    webroot.mkdir()
    config = tmp_path / "safedeploy.toml"
    config.write_text(f"""state_dir = "{tmp_path / 'state'}"
[challenge]
webroot_map = {{ "example.test" = "{webroot}" }}
[notify]
command = ["sh", "-c", "cat > {report}"]
""")
    config.chmod(0o600)
    env = dict(os.environ, SAFEDEPLOY_CONFIG=str(config), CERTBOT_DOMAIN="example.test",
               CERTBOT_VALIDATION="tok.thumb", CERTBOT_TOKEN="../../etc/passwd",
               CERTBOT_REMAINING_CHALLENGES="0")
    proc = subprocess.run([sys.executable, str(REPO / "hooks" / "manual-auth")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert [l for l in proc.stderr.splitlines() if l] == [
        "safedeploy manual-auth for example.test failed: ACME token '../../etc/passwd' is not base64url "
        "(fix: this is not a token a real ACME CA sends; refusing to write it)"]
    sent = json.loads(report.read_text())
    assert sent["step"] == "manual-auth" and sent["subject"] == "example.test"
    assert list(webroot.iterdir()) == []
