"""certbot --manual with hooks/manual-auth and hooks/manual-cleanup on the real bed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .acmebed import Certbot
from .test_plugin_e2e import assert_issued, challenges_used, ok, wait_secondary_in_sync

REPO = Path(__file__).resolve().parents[2]


def hook(kind: str) -> str:
    return f"{sys.executable} {REPO / 'hooks' / ('manual-' + kind)}"


@pytest.fixture
def hook_env(acme, tmp_path):
    config = tmp_path / "safedeploy.toml"
    config.write_text(f"""state_dir = "{tmp_path / 'state'}"
[challenge]
webroot_map = {{ "web.example.test" = "{acme.webroot}" }}
nsupdate_server = "127.0.0.1:{acme.dns.port}"
tsig_key = "{acme.dns.key_file}"
http_port = {acme.pebble.http_port}
self_check_address = "127.0.0.1"
propagation_timeout = 30
""")
    config.chmod(0o600)
    return {"SAFEDEPLOY_CONFIG": str(config)}, tmp_path / "state"


def manual(certbot: Certbot, domains, pref, env):
    return certbot.certonly(domains, "--manual", "--preferred-challenges", pref,
                            "--manual-auth-hook", hook("auth"), "--manual-cleanup-hook", hook("cleanup"),
                            env=env)


def test_http01_with_manual_hooks(acme, certbot, hook_env):
    env, state = hook_env
    ok(manual(certbot, ["web.example.test"], "http", env))
    assert_issued(certbot, "web.example.test", ["web.example.test"])
    assert not (acme.webroot / ".well-known").exists()
    assert json.loads((state / "manual-state.json").read_text()) == {}


def test_wildcard_and_apex_dns01_batched_then_unattended_renew(acme, certbot, hook_env):
    env, state = hook_env
    ok(manual(certbot, ["example.test", "*.example.test"], "dns", env))
    first = assert_issued(certbot, "example.test", ["example.test", "a.example.test"])
    assert set(challenges_used(certbot).values()) == {"dns-01"}
    assert acme.dns.txt("_acme-challenge.example.test") == {"keep-me"}
    assert json.loads((state / "manual-state.json").read_text()) == {}
    conf = (certbot.config_dir / "renewal" / "example.test.conf").read_text()
    assert "manual_auth_hook" in conf and "manual-auth" in conf
    ok(certbot.run("renew", "--force-renewal", "--cert-name", "example.test", env=env))
    assert assert_issued(certbot, "example.test", ["example.test"]) != first


def run_hook(kind, env, **certbot_env):
    return subprocess.run([sys.executable, str(REPO / "hooks" / f"manual-{kind}")], capture_output=True,
                          text=True, env=dict(os.environ, **env, **certbot_env), timeout=60)


def test_crash_between_auth_and_cleanup_is_cleaned_by_the_next_run(acme, hook_env):
    env, state = hook_env
    proc = run_hook("auth", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="stale-value",
                    CERTBOT_REMAINING_CHALLENGES="0", CERTBOT_ALL_DOMAINS="www.example.test")
    assert proc.returncode == 0, proc.stderr
    assert acme.dns.txt("_acme-challenge.www.example.test") == {"stale-value"}
    # certbot was killed before cleanup; an hour later the next renewal runs
    entries = json.loads((state / "manual-state.json").read_text())
    for entry in entries.values():
        entry["created"] = time.time() - 7200
    (state / "manual-state.json").write_text(json.dumps(entries))
    proc = run_hook("auth", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="fresh-value",
                    CERTBOT_REMAINING_CHALLENGES="0")
    assert proc.returncode == 0, proc.stderr
    assert acme.dns.txt("_acme-challenge.www.example.test") == {"fresh-value"}
    proc = run_hook("cleanup", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="fresh-value",
                    CERTBOT_AUTH_OUTPUT=proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert acme.dns.txt("_acme-challenge.www.example.test") == set()


def test_failing_hook_exits_non_zero_with_one_line(acme, hook_env, tmp_path):
    env, _ = hook_env
    proc = run_hook("auth", env, CERTBOT_DOMAIN="host.locked.test", CERTBOT_VALIDATION="v",
                    CERTBOT_REMAINING_CHALLENGES="0")
    assert proc.returncode == 1
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "manual-auth for host.locked.test failed" in lines[0] and "REFUSED" in lines[0]
    proc = run_hook("auth", env, CERTBOT_DOMAIN="web.example.test", CERTBOT_VALIDATION="tok.thumb",
                    CERTBOT_TOKEN="../../../etc/passwd")
    assert proc.returncode == 1 and "not base64url" in proc.stderr


def test_the_last_auth_hook_names_the_lagging_secondary_and_its_time(acme, hook_env):
    env, _ = hook_env
    wait_secondary_in_sync(acme)
    proc = run_hook("auth", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="lag-value",
                    CERTBOT_REMAINING_CHALLENGES="0")
    assert proc.returncode == 0, proc.stderr
    port = acme.dns.port
    assert "zone example.test: ns1.example.test (127.0.0.1 port %d), ns2.example.test" % port in proc.stderr
    found = re.search(rf"ns2\.example\.test \(127\.0\.0\.2 port {port}\) (\d+\.\d) s", proc.stderr)
    assert found and 2.0 <= float(found.group(1)) < 30, proc.stderr
    proc = run_hook("cleanup", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="lag-value",
                    CERTBOT_AUTH_OUTPUT=proc.stdout)
    assert proc.returncode == 0 and acme.dns.txt("_acme-challenge.www.example.test") == set()


def test_names_sharing_one_webroot_leave_no_directory(acme, certbot, tmp_path):
    domains = ["web.example.test", "web2.example.test", "www.example.test"]
    config = tmp_path / "shared.toml"
    config.write_text(f"""state_dir = "{tmp_path / 'state'}"
[challenge]
webroot_map = {{ "{','.join(domains)}" = "{acme.webroot}" }}
http_port = {acme.pebble.http_port}
self_check_address = "127.0.0.1"
""")
    config.chmod(0o600)
    ok(manual(certbot, domains, "http", {"SAFEDEPLOY_CONFIG": str(config)}))
    assert not (acme.webroot / ".well-known").exists()


def test_on_a_terminal_the_wait_keeps_a_live_line_per_lagging_server(acme, hook_env):
    """stderr is a pty: a line per lagging server counts the seconds, redrawn in place, then cleared."""
    import pty

    env, _ = hook_env
    wait_secondary_in_sync(acme)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(REPO / "hooks" / "manual-auth")], stderr=slave,
                            stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, **env, CERTBOT_DOMAIN="www.example.test",
                                     CERTBOT_VALIDATION="tty-value", CERTBOT_REMAINING_CHALLENGES="0"))
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the hook closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    entry_id = proc.stdout.read()
    assert proc.wait(timeout=60) == 0, shown
    text = shown.decode()
    port = acme.dns.port
    live = re.findall(rf"waiting +(\d+) s for ns2\.example\.test \(127\.0\.0\.2 port {port}\), zone example\.test", text)
    assert live and int(live[-1]) >= 1, text  # the secondary lags 2 s: the count went past 1
    assert "\x1b[1A\x1b[J" in text  # redrawn in place, not appended
    assert "ns1.example.test (127.0.0.1 port %d), zone" % port not in text  # ns1 never lagged
    assert re.search(rf"ns2\.example\.test \(127\.0\.0\.2 port {port}\) \d+\.\d s", text)
    proc = run_hook("cleanup", env, CERTBOT_DOMAIN="www.example.test", CERTBOT_VALIDATION="tty-value",
                    CERTBOT_AUTH_OUTPUT=entry_id)
    assert proc.returncode == 0 and acme.dns.txt("_acme-challenge.www.example.test") == set()


@pytest.mark.parametrize("case,name,says,fix", [
    ("wrong-secret", "www.example.test", "(BIND): the TSIG signature did not verify (BADSIG)", "whose secret"),
    ("unknown-key", "www.example.test", "(BIND): the server does not know the TSIG key nobody (BADKEY)",
     "update-policy { grant nobody zonesub TXT; }"),
    ("not-allowed", "host.locked.test", "(BIND): the server REFUSED the update (key acme-key is not allowed",
     'in zone "locked.test" set update-policy { grant acme-key zonesub TXT; };'),
])
def test_bind_errors_are_one_line_naming_bind(acme, hook_env, tmp_path, case, name, says, fix):
    env, _ = hook_env
    config = Path(env["SAFEDEPLOY_CONFIG"])
    if case != "not-allowed":
        from .authbed import write_key_file

        key = tmp_path / f"{case}.key"
        write_key_file(key, "acme-key" if case == "wrong-secret" else "nobody")
        config.write_text(config.read_text().replace(str(acme.dns.key_file), str(key)))
    proc = run_hook("auth", env, CERTBOT_DOMAIN=name, CERTBOT_VALIDATION="v", CERTBOT_REMAINING_CHALLENGES="0")
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert says in lines[0] and fix in lines[0] and "Traceback" not in proc.stderr
    assert "acl" not in lines[0] and "pdnsutil" not in lines[0]
    assert acme.dns.txt(f"_acme-challenge.{name}") == set()
