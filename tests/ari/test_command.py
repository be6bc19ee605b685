"""``certbot-safedeploy ari`` over a config dir: which lineages it checks, what it runs."""

import datetime
import os
import stat
import sys
import time

from certbot_safedeploy.ari.certid import cert_id
from certbot_safedeploy.ari.fetch import Client
from certbot_safedeploy.commands.ari import run_ari
from certbot_safedeploy.cli import build_parser
from tests.ari.ariserver import Reply, window_body
from tests.pki import write_lineage

NOW = datetime.datetime.now(datetime.timezone.utc)
H = datetime.timedelta(hours=1)


def lineage(config_dir, name, leaf, ca, server, version="2.1.0"):
    write_lineage(str(config_dir), name, leaf, [ca])
    os.makedirs(config_dir / "renewal", exist_ok=True)
    (config_dir / "renewal" / f"{name}.conf").write_text(
        f"version = {version}\narchive_dir = {config_dir}/archive/{name}\n"
        f"cert = {config_dir}/live/{name}/cert.pem\n\n[renewalparams]\nauthenticator = safedeploy\n"
        f"server = {server}\n")


def fake_certbot(tmp_path, code=0):
    log = tmp_path / "certbot.log"
    script = tmp_path / "certbot"
    script.write_text(f"#!{sys.executable}\nimport sys\nopen({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                      f"print('renewal failed: DNS problem', file=sys.stderr) if {code} else None\nsys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), log


def config_file(tmp_path):
    path = tmp_path / "safedeploy.toml"
    path.write_text(f'state_dir = "{tmp_path}/state"\n')
    return str(path)


def test_due_lineages_are_renewed_through_certbot(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    old, new = leaf("old.example"), leaf("new.example")
    lineage(cfg, "old.example", old, ca, server.directory)
    lineage(cfg, "new.example", new, ca, server.directory)
    server.routes[server.info_path(cert_id(old.cert))] = Reply(
        200, window_body(NOW - 5 * H, NOW - 4 * H, "https://ca.example/incident"), {"Retry-After": "21600"})
    certbot, log = fake_certbot(tmp_path)
    run = run_ari(str(cfg), config_file(tmp_path), certbot=certbot, client=client)
    assert not run.failed, run.lines
    assert run.renewed == ["old.example"]
    assert log.read_text().split("\n")[0] == (f"renew --cert-name old.example --force-renewal --non-interactive "
                                              f"--no-random-sleep-on-renew --config-dir {cfg}")
    text = "\n".join(run.lines)
    assert "old.example: the window" in text and "https://ca.example/incident" in text
    assert "new.example: renew at" in text
    assert os.path.exists(tmp_path / "state" / "ari" / "old.example.json")


def test_dry_run_renews_nothing_and_keeps_nothing(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    old = leaf("old.example")
    lineage(cfg, "old.example", old, ca, server.directory)
    server.routes[server.info_path(cert_id(old.cert))] = Reply(200, window_body(NOW - 5 * H, NOW - 4 * H))
    certbot, log = fake_certbot(tmp_path)
    run = run_ari(str(cfg), config_file(tmp_path), certbot=certbot, client=client, dry_run=True)
    assert any("would run:" in line for line in run.lines) and not log.exists()
    assert not os.path.exists(tmp_path / "state" / "ari")


def test_a_failing_certbot_is_one_line_and_a_failed_run(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    old = leaf("old.example")
    lineage(cfg, "old.example", old, ca, server.directory)
    server.routes[server.info_path(cert_id(old.cert))] = Reply(200, window_body(NOW - 5 * H, NOW - 4 * H))
    certbot, _ = fake_certbot(tmp_path, code=1)
    run = run_ari(str(cfg), config_file(tmp_path), certbot=certbot, client=client)
    assert run.failed and any("certbot renew exited 1: renewal failed: DNS problem" in line for line in run.lines)


def test_certbot_that_does_ari_itself_is_left_alone(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    lineage(cfg, "modern.example", leaf("modern.example"), ca, server.directory, version="4.1.0")
    lineage(cfg, "old.example", leaf("old.example"), ca, server.directory, version="1.21.0")
    run = run_ari(str(cfg), config_file(tmp_path), certbot="false", client=client)
    assert "modern.example: certbot 4.1.0 checks ARI itself: left to it (--force-ari to check here too)" in run.lines
    assert server.total() == 1
    forced = run_ari(str(cfg), config_file(tmp_path), certbot="false", client=client, force_ari=True)
    assert not any("checks ARI itself" in line for line in forced.lines) and server.total() == 2


def test_second_run_inside_retry_after_sends_nothing(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    for i in range(5):
        lineage(cfg, f"n{i}.example", leaf(f"n{i}.example"), ca, server.directory)
    run_ari(str(cfg), config_file(tmp_path), certbot="false", client=client)
    assert server.total() == 5
    second = run_ari(str(cfg), config_file(tmp_path), certbot="false", client=Client(cafile=str(server.ca_file)),
                     now=time.time() + 60)
    assert second.requests == 0 and server.total() == 5 and server.counts["/dir"] == 1


def test_broken_lineages_are_one_line_each(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    lineage(cfg, "gone.example", leaf("gone.example"), ca, server.directory)
    os.unlink(cfg / "live" / "gone.example" / "cert.pem")
    (cfg / "renewal" / "plain.conf").write_text("cert = /nonexistent\n[renewalparams]\nserver = http://ca/dir\n")
    run = run_ari(str(cfg), config_file(tmp_path), certbot="false", client=client)
    assert run.failed
    assert any(line.startswith("gone.example: cannot read") for line in run.lines)
    assert any("no https ACME directory" in line for line in run.lines)


def test_the_parser():
    args = build_parser().parse_args(["ari", "--config-dir", "/x", "--certbot", "/usr/bin/certbot", "--force-ari",
                                      "--dry-run"])
    assert (args.config_dir, args.certbot, args.force_ari, args.dry_run) == ("/x", "/usr/bin/certbot", True, True)


def test_a_bad_certbot_command_is_one_line(tmp_path, client):
    run = run_ari(str(tmp_path / "le"), config_file(tmp_path), certbot="certbot 'unbalanced", client=client)
    assert run.failed and run.lines == ["error: --certbot \"certbot 'unbalanced\": No closing quotation"]


def test_failures_go_to_stderr_and_the_rest_to_stdout(tmp_path, server, leaf, ca):
    import subprocess
    cfg = tmp_path / "le"
    good, bad = leaf("good.example"), leaf("bad.example")
    lineage(cfg, "good.example", good, ca, server.directory)
    lineage(cfg, "bad.example", bad, ca, server.directory)
    server.routes[server.info_path(cert_id(bad.cert))] = Reply(200, b"nonsense")
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "ari", "--config-dir", str(cfg), "--config",
                           config_file(tmp_path), "--certbot", "false"], capture_output=True, text=True,
                          env=dict(os.environ, REQUESTS_CA_BUNDLE=str(server.ca_file)), timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [line for line in proc.stderr.splitlines() if line.startswith("bad.example:")]
    assert len(proc.stderr.splitlines()) == 1 and "the answer is not JSON" in proc.stderr
    assert "good.example: renew at" in proc.stdout and "with failures" in proc.stdout


def test_a_time_chosen_before_the_next_run_is_due_now(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    soon = leaf("soon.example")
    lineage(cfg, "soon.example", soon, ca, server.directory)
    server.routes[server.info_path(cert_id(soon.cert))] = Reply(200, window_body(NOW + 1 * H, NOW + 2 * H))
    assert not run_ari(str(cfg), config_file(tmp_path), certbot="true", client=client, dry_run=True).renewed
    run = run_ari(str(cfg), config_file(tmp_path), certbot="true", client=client, interval=7 * 3600)
    assert run.renewed == ["soon.example"] and any("comes before the next run" in line for line in run.lines)


def test_building_the_parser_loads_no_ari_machinery():
    """cli.py builds every parser for the deploy hook too: `ari` must not widen its import path."""
    import subprocess
    code = ("import sys; from certbot_safedeploy.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith(('certbot_safedeploy.ari', 'cryptography', "
            "'ssl', 'concurrent', 'http.client'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
