"""POSIX ACL xattr encoding, checked against the kernel and against getfacl."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from certbot_safedeploy.system import acl


def test_encoding_is_the_kernels_layout():
    blob = acl.encode_access_acl(0o640, [33, 7, 33])
    version, = struct.unpack_from("<I", blob)
    entries = acl.decode_access_acl(blob)
    assert version == 2
    assert entries == [(acl.USER_OBJ, 6, 0xFFFFFFFF), (acl.USER, acl.READ, 7), (acl.USER, acl.READ, 33),
                       (acl.GROUP_OBJ, 4, 0xFFFFFFFF), (acl.MASK, 4, 0xFFFFFFFF), (acl.OTHER, 0, 0xFFFFFFFF)]


def test_without_readers_the_acl_is_the_mode_and_has_no_mask():
    entries = acl.decode_access_acl(acl.encode_access_acl(0o600, []))
    assert [e[0] for e in entries] == [acl.USER_OBJ, acl.GROUP_OBJ, acl.OTHER]
    assert [e[1] for e in entries] == [6, 0, 0]


def test_decode_refuses_what_is_not_an_acl():
    with pytest.raises(ValueError):
        acl.decode_access_acl(struct.pack("<I", 3))
    with pytest.raises(ValueError):
        acl.decode_access_acl(struct.pack("<I", 2) + b"\0" * 5)


def test_the_kernel_accepts_it_and_getfacl_reads_it_back(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("")
    path.chmod(0o600)
    try:
        os.setxattr(path, acl.XATTR_NAME, acl.encode_access_acl(0o600, [65534]))
    except OSError as exc:
        pytest.skip(f"this file system has no POSIX ACLs: {exc}")
    assert acl.decode_access_acl(os.getxattr(path, acl.XATTR_NAME)) == acl.decode_access_acl(
        acl.encode_access_acl(0o600, [65534]))
    if shutil.which("getfacl"):
        out = subprocess.run(["getfacl", "-n", "-p", str(path)], capture_output=True, text=True, check=True).stdout
        assert "user:65534:r--" in out and "mask::r--" in out and "other::---" in out
