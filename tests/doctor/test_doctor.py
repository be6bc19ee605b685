import os

DEBIAN_CRON = ("SHELL=/bin/sh\n0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system "
               "&& perl -e 'sleep int(rand(43200))' && certbot -q renew\n")


def errors(findings):
    return [(check, msg) for sev, check, msg in findings if sev == "error"]


def test_healthy_setup_passes(etc):
    etc.lineage("example.com")
    etc.timer()
    etc.cron("certbot", DEBIAN_CRON)  # guarded: defers to the timer
    proc = etc.run()
    assert proc.returncode == 0, proc.stdout
    assert "doctor: 0 error(s), 0 warning(s)" in proc.stdout


def test_manual_without_auth_hook(etc):
    etc.timer()
    etc.lineage("manual.example", authenticator="manual", params="manual_public_ip_logging_ok = True")
    proc = etc.run()
    assert proc.returncode == 1
    line = next(l for l in proc.stdout.splitlines() if "manual-without-hook" in l)
    assert "renewal/manual.example.conf" in line and "every unattended renewal will fail" in line
    assert "--manual-auth-hook" in line  # the fix


def test_expiring_inside_the_window_means_renewals_fail(etc):
    etc.timer()
    etc.lineage("ok.example", days_left=40)
    etc.lineage("stuck.example", days_left=19)
    etc.lineage("short-window.example", days_left=19, top="renew_before_expiry = 10 days")
    found = errors(etc.findings())
    assert found == [("renewal-failing", "stuck.example expires in 19.0 days but the renewal window is 30 days: "
                                         "renewals are failing")]


def test_missing_files_and_broken_symlinks(etc):
    etc.timer()
    etc.lineage("broken.example")
    (etc.le / "archive" / "broken.example" / "chain1.pem").unlink()
    found = errors(etc.findings())
    assert ("lineage-files", "broken.example: chain is a broken symlink") in found


def test_more_than_one_scheduler(etc):
    etc.lineage("example.com")
    etc.timer()
    etc.cron("certbot", "0 */12 * * * root certbot -q renew\n")  # the guard was removed
    (etc.root / "var/spool/cron/crontabs").mkdir(parents=True)
    (etc.root / "var/spool/cron/crontabs/root").write_text(
        "# m h dom mon dow command\n30 3 * * 1 /opt/acme_tiny.py --account-key a.key --csr s.csr > site.crt\n")
    [(check, msg)] = errors(etc.findings())
    assert check == "schedulers" and msg.startswith("3 schedulers renew certificates")
    assert "certbot.timer" in msg and "cron.d/certbot" in msg and "acme_tiny" in msg


def test_targets_without_lineage_or_hook(etc):
    etc.timer()
    etc.lineage("example.com")
    etc.config.write_text("""[[target]]
name = "web"
lineage = "example.com"
files = [ { path = "/etc/nginx/tls/a.crt", content = ["fullchain"] } ]
[[target]]
name = "old"
lineage = "gone.example"
files = [ { path = "/etc/nginx/tls/b.crt", content = ["fullchain"] } ]
""")
    os.chmod(etc.config, 0o600)
    found = errors(etc.findings())
    assert ("target-lineage", "target 'old' deploys lineage 'gone.example', which does not exist in "
            f"{etc.le}/live/") in found
    assert any(c == "deploy-hook" and "example.com" in m for c, m in found)
    hook = etc.le / "renewal-hooks" / "deploy" / "50-safedeploy"
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/usr/bin/python3\nfrom certbot_safedeploy.cli import main\n")
    hook.chmod(0o755)
    assert not [c for c, _ in errors(etc.findings()) if c == "deploy-hook"]


def test_unsafe_modes(etc, tmp_path):
    etc.timer()
    key = tmp_path / "acme.key"
    key.write_text('key "k" { algorithm hmac-sha256; secret "MDEyMzQ1Njc4OWFiY2RlZg=="; };')
    key.chmod(0o644)
    live = etc.lineage("example.com", authenticator="safedeploy", params=f"safedeploy_tsig_key = {key}")
    os.chmod(os.path.realpath(live / "privkey.pem"), 0o644)
    etc.config.write_text('[notify]\ncommand = ["/usr/local/bin/alert"]\n')
    os.chmod(etc.config, 0o664)
    found = errors(etc.findings())
    assert ("permissions", "TSIG key is readable or writable by group or others (mode 0644)") in found
    assert ("permissions", "private key is readable or writable by group or others (mode 0644)") in found
    assert any(c == "permissions" and "names commands run as root" in m for c, m in found)
