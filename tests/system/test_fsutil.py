"""Atomic files, as the kernel sees them: modes from creation, no symlink followed, no torn file."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from certbot_safedeploy.errors import InstallError
from certbot_safedeploy.system import fsutil


def test_a_private_file_is_never_readable_by_others_not_even_while_written(tmp_path, monkeypatch):
    dest = tmp_path / "privkey.pem"
    seen = []
    real_write = os.write

    def spy(fd, data):  # the mode the file has at the moment the secret is written
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(fsutil.os, "write", spy)
    fsutil.write_file_atomic(str(dest), b"SECRET", fsutil.FileSpec(mode=0o600))
    assert seen and all(m == 0o600 for m in seen)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and dest.read_bytes() == b"SECRET"


def test_public_modes_are_set_before_content_and_kept(tmp_path):
    dest = tmp_path / "fullchain.pem"
    fsutil.write_file_atomic(str(dest), b"PUBLIC", fsutil.FileSpec(mode=0o644))
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_replacing_is_one_rename_readers_see_old_or_new(tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(b"A" * 65536)
    stop = threading.Event()
    torn = []

    def reader():
        while not stop.is_set():
            data = dest.read_bytes()
            if data not in (b"A" * 65536, b"B" * 65536):
                torn.append(len(data))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(200):
            fsutil.write_file_atomic(str(dest), (b"A" if i % 2 else b"B") * 65536)
    finally:
        stop.set()
        t.join()
    assert torn == []
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left behind


def test_a_planted_symlink_at_the_temp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    dest = tmp_path / "cert.pem"
    os.symlink(victim, tmp_path / ".cert.pem.safedeploy-fixed.tmp")
    tmp = fsutil.stage_file(str(dest), b"NEW", fsutil.FileSpec(), suffix="fixed")
    fsutil.commit_file(tmp, str(dest))  # the stale name was unlinked, never opened through
    assert victim.read_text() == "keep" and dest.read_bytes() == b"NEW"


def test_a_missing_directory_is_one_install_error(tmp_path):
    with pytest.raises(InstallError, match="cannot create a file in") as info:
        fsutil.write_file_atomic(str(tmp_path / "nope" / "x"), b"x")
    assert "create" in info.value.fix


def test_read_trusted_text_refuses_a_final_symlink_and_a_huge_file(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text("a = 1\n")
    os.symlink(real, tmp_path / "link.toml")
    with pytest.raises(OSError):
        fsutil.read_trusted_text(str(tmp_path / "link.toml"))
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (1 << 20 | 1))
    with pytest.raises(OSError, match="larger than 1 MiB"):
        fsutil.read_trusted_text(str(big))
    assert fsutil.read_trusted_text(str(real)) == "a = 1\n"


def test_unsafe_ownership_names_the_writable_file_and_directory(tmp_path):
    tmp_path.chmod(0o755)
    f = tmp_path / "c.toml"
    f.write_text("")
    f.chmod(0o600)
    assert fsutil.unsafe_ownership(str(f), require_root=True) == ""
    f.chmod(0o620)
    assert "writable by group or others" in fsutil.unsafe_ownership(str(f), require_root=True)
    f.chmod(0o600)
    os.chown(f, 65534, 65534)
    assert "owned by uid 65534, not root" in fsutil.unsafe_ownership(str(f), require_root=True)
    os.chown(f, 0, 0)
    tmp_path.chmod(0o777)
    assert str(tmp_path) in fsutil.unsafe_ownership(str(f), require_root=True)
    tmp_path.chmod(0o1777)  # sticky, like /tmp
    assert fsutil.unsafe_ownership(str(f), require_root=True) == ""


def test_untrusted_ancestor_finds_a_foreign_symlink_on_the_way(tmp_path):
    tmp_path.chmod(0o755)
    other = tmp_path / "elsewhere"
    other.mkdir()
    link = tmp_path / "tls"
    os.symlink(other, link)
    os.lchown(link, 65534, 65534)
    assert f"{link} is a symlink owned by uid 65534" == fsutil.untrusted_ancestor(str(link / "sub"))
    os.lchown(link, 0, 0)
    assert fsutil.untrusted_ancestor(str(link / "sub")) == ""
