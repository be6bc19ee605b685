"""doctor --live writes a probe token / TXT record and checks it for real."""

import json
import subprocess
import sys


def test_live_probes(acme, tmp_path):
    unserved = tmp_path / "unserved"
    unserved.mkdir()
    le = tmp_path / "le"
    (le / "renewal").mkdir(parents=True)
    config = tmp_path / "safedeploy.toml"
    config.write_text(f"""state_dir = "{tmp_path / 'state'}"
[challenge]
webroot_map = {{ "web.example.test" = "{acme.webroot}", "bad.example.test" = "{unserved}" }}
nsupdate_server = "127.0.0.1:{acme.dns.port}"
tsig_key = "{acme.dns.key_file}"
http_port = {acme.pebble.http_port}
self_check_address = "127.0.0.1"
""")
    config.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "doctor", "--live", "--json",
                           "--config-dir", str(le), "--config", str(config), "--system-root", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    findings = {(f["check"], f["severity"], f["message"].split(":")[0]) for f in json.loads(proc.stdout)["findings"]}
    assert ("live-webroot", "ok", "web.example.test") in findings
    assert any(c == "live-webroot" and s == "error" and "bad.example.test" in m
               for c, s, m in {(f["check"], f["severity"], f["message"]) for f in json.loads(proc.stdout)["findings"]})
    assert ("live-nsupdate", "ok", "127.0.0.1") in findings
    assert proc.returncode == 1  # the unserved webroot is an error
    assert not (acme.webroot / ".well-known").exists() and not (unserved / ".well-known").exists()
    assert acme.dns.txt("_acme-challenge.bad.example.test") == set()
