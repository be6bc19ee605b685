"""fleet enroll / renew / pull / rekey on SQLite with the real deploy pipeline."""

import os
import subprocess
import sys

import sqlalchemy as sa

from certbot_safedeploy.fleet.localstate import KEY, NEXT_KEY


def setup_issued(fleet, server="web1"):
    cfg = fleet.server_config(server)
    fleet.allow(cfg, server, "www.example.com")
    assert fleet.cli(cfg, "enroll", "site", "-d", "www.example.com").returncode == 0
    assert fleet.cli(cfg, "renew").returncode == 0
    return cfg


def test_enroll_renew_pull_installs_with_the_local_key(fleet):
    cfg = setup_issued(fleet)
    key = fleet.root / "web1/state/fleet/site" / KEY
    assert key.stat().st_mode & 0o777 == 0o600
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 0, r.stderr
    assert "deployed site" in r.stdout
    tls = fleet.root / "web1/tls"
    assert (tls / "site.key").read_bytes() == key.read_bytes()
    assert (tls / "site.key").stat().st_mode & 0o777 == 0o600
    assert (tls / "site.crt").read_bytes().count(b"BEGIN CERTIFICATE") == 2
    # nothing new: nothing rewritten, exit 0
    before = os.stat(tls / "site.crt").st_mtime_ns
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 0 and "is installed" in r.stdout
    assert os.stat(tls / "site.crt").st_mtime_ns == before
    status = fleet.cli(cfg, "status")
    assert status.returncode == 0 and " ok" in status.stdout


def test_the_private_key_never_reaches_the_store(fleet):
    cfg = setup_issued(fleet)
    fleet.cli(cfg, "pull")
    key = (fleet.root / "web1/state/fleet/site" / KEY).read_bytes()
    body = b"".join(key.splitlines()[1:-1])
    assert body[:40] not in (fleet.root / "fleet.db").read_bytes()
    assert b"PRIVATE KEY" not in (fleet.root / "fleet.db").read_bytes()


def test_store_outage_changes_nothing_and_fails(fleet):
    cfg = setup_issued(fleet)
    fleet.server_config("web1", store="postgresql+psycopg://fleet@127.0.0.1:1/fleet")
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 1 and "unreachable" in r.stderr and "nothing was changed" in r.stderr
    assert not (fleet.root / "web1/tls/site.crt").exists()
    fleet.server_config("web1")
    assert fleet.cli(cfg, "pull").returncode == 0  # back online: it catches up


def test_a_corrupt_certificate_row_is_refused_and_nothing_installed(fleet):
    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    tls = fleet.root / "web1/tls"
    snapshot = {p.name: p.read_bytes() for p in tls.iterdir()}
    engine = sa.create_engine(fleet.store_url)
    with engine.begin() as conn:  # a new serial whose PEM is truncated mid-body
        conn.execute(sa.text("UPDATE certificates SET serial = 'ff01', "
                             "cert_pem = substr(cert_pem, 1, 200) || char(10) || '-----END CERTIFICATE-----'"))
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 1, r.stdout
    assert "refused" in r.stderr
    assert {p.name: p.read_bytes() for p in tls.iterdir()} == snapshot
    status = fleet.cli(cfg, "status")
    assert status.returncode == 1 and "STALE" in status.stdout and "(refused)" in status.stdout


def test_a_failing_reload_rolls_back_and_shows_stale(fleet):
    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    flag, count = fleet.root / "reload-fails", fleet.root / "reloads"
    cfg = fleet.server_config("web1", extra=f'reload = ["/bin/sh", "-c", "echo >> {count}; ! rm {flag} 2>/dev/null"]')
    old = (fleet.root / "web1/tls/site.crt").read_bytes()
    assert fleet.cli(cfg, "renew", "site", "--force").returncode == 0
    flag.touch()
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 3, r.stdout + r.stderr
    assert (fleet.root / "web1/tls/site.crt").read_bytes() == old
    status = fleet.cli(cfg, "status")
    assert status.returncode == 1 and "STALE" in status.stdout and "rolled back" in status.stdout
    reloads = count.read_text().count("\n")
    r = fleet.cli(cfg, "pull")  # the next timer tick backs off instead of reloading again
    assert r.returncode == 0 and "next try in 15 min" in r.stdout, r.stdout + r.stderr
    assert count.read_text().count("\n") == reloads
    assert fleet.cli(cfg, "status").returncode == 1
    assert fleet.cli(cfg, "pull", "--retry-now").returncode == 0
    assert fleet.cli(cfg, "status").returncode == 0


def test_two_pullers_at_once_deploy_once(fleet):
    cfg = setup_issued(fleet)
    cmd = [sys.executable, "-m", "certbot_safedeploy", "fleet", "pull", "--config", str(cfg)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    text = "".join(o for pair in outs for o in pair)
    assert text.count("deployed site") == 1 and text.count("is installed") == 1


def test_rekey_keeps_the_old_key_live_until_its_certificate_is_installed(fleet):
    cfg = setup_issued(fleet)
    fleet.cli(cfg, "pull")
    state = fleet.root / "web1/state/fleet/site"
    old_key = (state / KEY).read_bytes()
    r = fleet.cli(cfg, "rekey", "site")
    assert r.returncode == 0 and "old pin-sha256: sha256/" in r.stdout and "new pin-sha256: sha256/" in r.stdout
    assert (state / NEXT_KEY).stat().st_mode & 0o777 == 0o600
    assert fleet.cli(cfg, "rekey", "site").returncode == 1  # one pending rekey at a time
    assert fleet.cli(cfg, "pull").returncode == 0  # the old certificate is still the current one
    assert (fleet.root / "web1/tls/site.key").read_bytes() == old_key
    assert "rekey pending" in fleet.cli(cfg, "status").stdout
    assert fleet.cli(cfg, "renew").returncode == 0
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 0 and "rekeyed certificate is live" in r.stdout
    assert (fleet.root / "web1/tls/site.key").read_bytes() == (state / KEY).read_bytes() != old_key
    assert not (state / NEXT_KEY).exists()


def test_a_name_without_a_target_is_refused(fleet):
    cfg = fleet.server_config("web1", names=())
    fleet.allow(cfg, "web1", "www.example.com")
    fleet.cli(cfg, "enroll", "site", "-d", "www.example.com")
    fleet.cli(cfg, "renew")
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 1 and "no [[target]]" in r.stderr


def test_a_pull_with_nothing_new_loads_neither_cryptography_nor_the_pipeline(fleet):
    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    probe = ("import sys; from certbot_safedeploy.cli import main; rc = main(['fleet', 'pull', '--config', sys.argv[1]]);"
             "heavy = sorted(m for m in sys.modules if m.startswith(('cryptography', 'certbot_safedeploy.deploy',"
             " 'certbot_safedeploy.verify.lineagecheck', 'certbot', 'requests', 'dns.', 'sqlalchemy')) and m != 'certbot_safedeploy'"
             " and not m.startswith('certbot_safedeploy.') or m.startswith(('certbot_safedeploy.deploy',"
             " 'certbot_safedeploy.verify.lineagecheck')));"
             "print(rc, heavy)")
    r = subprocess.run([sys.executable, "-c", probe, str(cfg)], capture_output=True, text=True)
    assert r.stdout.strip().splitlines()[-1] == "0 []", r.stdout + r.stderr
