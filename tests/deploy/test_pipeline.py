import os
import stat

from certbot_safedeploy.system import acl
from certbot_safedeploy.deploy import pipeline


def test_deploys_every_target_with_modes(bed):
    proc = bed.run()
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    live = bed.live
    fullchain = (live / "fullchain.pem").read_bytes()
    key = (live / "privkey.pem").read_bytes()
    assert bed.snapshot() == {"haproxy.pem": fullchain + key, "site.crt": fullchain, "site.key": key}
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in bed.dest.iterdir() if p.is_file()}
    assert modes == {"haproxy.pem": 0o600, "site.crt": 0o644, "site.key": 0o600}
    assert "deployed example.com to web, haproxy" in proc.stdout


def test_owner_group_and_acl(bed):
    bed.write_config('owner = "nobody"\ngroup = "nogroup"\nacl_read = ["daemon"]')
    proc = bed.run()
    assert proc.returncode == 0, proc.stderr
    key = bed.dest / "site.key"
    st = key.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    entries = acl.decode_access_acl(os.getxattr(key, acl.XATTR_NAME))
    assert (acl.USER, acl.READ, 1) in entries  # daemon is uid 1 on Debian
    assert (acl.OTHER, 0, 0xFFFFFFFF) in entries


def test_refused_lineage_touches_nothing(bed):
    assert bed.run().returncode == 0
    before = bed.snapshot()
    mtimes = {p.name: p.stat().st_mtime_ns for p in bed.dest.iterdir()}
    bed.issue()
    (bed.letsencrypt / "archive" / "example.com" / f"cert{bed.generation}.pem").write_bytes(b"")
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED
    assert "cert.pem: pem: file is empty" in proc.stderr
    assert "nothing was touched" in proc.stderr
    assert bed.snapshot() == before
    assert {p.name: p.stat().st_mtime_ns for p in bed.dest.iterdir()} == mtimes


def test_domains_not_covered_refuse(bed):
    proc = bed.run(env={"RENEWED_DOMAINS": "example.com shop.example.com"})
    assert proc.returncode == pipeline.REFUSED
    assert "shop.example.com" in proc.stderr and bed.snapshot() == {}


def test_failed_check_restores_and_does_not_reload(bed, tmp_path):
    assert bed.run().returncode == 0
    before = bed.snapshot()
    marker = tmp_path / "reloaded"
    bed.write_config(f'check = ["false"]\nreload = ["touch", "{marker}"]')
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLED_BACK, proc.stderr
    assert "check ['false'] failed" in proc.stderr
    assert bed.snapshot() == before and not marker.exists()


def test_failed_reload_restores(bed):
    assert bed.run().returncode == 0
    before = bed.snapshot()
    bed.write_config('check = ["true"]\nreload = ["sh", "-c", "echo boom; exit 3"]')
    bed.issue()
    proc = bed.run()
    assert proc.returncode == pipeline.ROLLBACK_FAILED  # the reload after restore fails too
    assert "exit 3: boom" in proc.stderr
    assert bed.snapshot() == before


def test_no_target_is_a_logged_noop(bed):
    proc = bed.run("--lineage", str(bed.letsencrypt / "live" / "other.org"))
    assert proc.returncode == 0 and "has no target" in proc.stdout


def test_dry_run_prints_plan_and_touches_nothing(bed):
    proc = bed.run("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would install" in proc.stdout and "site.key <- privkey" in proc.stdout
    assert bed.snapshot() == {}
    assert b"PRIVATE KEY" not in proc.stdout.encode()


def test_backups_rotate_and_keep_n_generations(bed):
    contents = []
    for _ in range(4):
        assert bed.run().returncode == 0
        contents.append((bed.dest / "site.crt").read_bytes())
        bed.issue()
    backups = bed.dest / ".safedeploy-backup"
    assert sorted(p.name for p in backups.iterdir() if p.name.startswith("site.crt")) == [
        "site.crt.1", "site.crt.2"]
    assert (backups / "site.crt.1").read_bytes() == contents[2]
    assert (backups / "site.crt.2").read_bytes() == contents[1]
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700


def test_symlinked_destination_is_refused(bed, tmp_path):
    (bed.dest / "site.crt").symlink_to(tmp_path / "elsewhere.crt")
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED
    assert "destination is a symlink" in proc.stderr
    assert not (tmp_path / "elsewhere.crt").exists()
    assert not (bed.dest / "site.key").exists()


def test_unsafe_config_with_commands_is_refused(bed):
    bed.write_config('reload = ["true"]')
    os.chmod(bed.config, 0o666)
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED
    assert "writable by group or others" in proc.stderr and bed.snapshot() == {}
