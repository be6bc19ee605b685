"""POSIX access ACLs in the Linux ``system.posix_acl_access`` xattr format.

The encoding is the kernel's (``include/uapi/linux/posix_acl_xattr.h``): a
little-endian u32 version (2) followed by (u16 tag, u16 perm, u32 id) entries,
sorted by tag and then id.  Named user entries need a mask entry (POSIX.1e).
Writing the xattr directly avoids a ``setfacl`` subprocess and works on an open
file descriptor, so the ACL is set before any secret is written.
"""

from __future__ import annotations

import struct
from typing import Sequence

XATTR_NAME = "system.posix_acl_access"
_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED_ID = 0xFFFFFFFF
READ = 0x04


def encode_access_acl(mode: int, read_uids: Sequence[int]) -> bytes:
    """ACL equal to ``mode`` plus read access for each uid in ``read_uids``."""
    user = (mode >> 6) & 0o7
    group = (mode >> 3) & 0o7
    other = mode & 0o7
    entries: list[tuple[int, int, int]] = [(USER_OBJ, user, _UNDEFINED_ID)]
    for uid in sorted(set(read_uids)):
        entries.append((USER, READ, uid))
    entries.append((GROUP_OBJ, group, _UNDEFINED_ID))
    if read_uids:
        entries.append((MASK, group | READ, _UNDEFINED_ID))
    entries.append((OTHER, other, _UNDEFINED_ID))
    out = struct.pack("<I", _VERSION)
    for tag, perm, ident in entries:
        out += struct.pack("<HHI", tag, perm, ident)
    return out


def decode_access_acl(blob: bytes) -> list[tuple[int, int, int]]:
    """Inverse of :func:`encode_access_acl`, for checks and tests."""
    (version,) = struct.unpack_from("<I", blob)
    if version != _VERSION or (len(blob) - 4) % 8:
        raise ValueError("not a POSIX ACL xattr")
    return [struct.unpack_from("<HHI", blob, 4 + 8 * i) for i in range((len(blob) - 4) // 8)]
