"""The one way this package reads a file someone else wrote: regular files only, bounded, decoded once.

``open(path).read()`` blocks for ever on a FIFO, reads ``/dev/zero`` until memory
runs out and reads a directory as an error only after it blocked.  :func:`read_bytes`
opens with ``O_NONBLOCK`` (so a FIFO without a writer does not block the open),
optionally ``O_NOFOLLOW``, checks ``fstat`` for a regular file, and reads at most
``limit`` bytes.  Every refusal is an :class:`OSError` whose ``strerror`` says what
was found, so the callers' existing ``except OSError`` turns it into their one line.
"""

from __future__ import annotations

import errno
import os
import stat

MiB = 1 << 20


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def size_text(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB and limit % MiB == 0 else f"{limit // 1024} KiB" \
        if limit >= 1024 and limit % 1024 == 0 else f"{limit} bytes"


def read_bytes(path: str, limit: int = MiB, *, follow_symlinks: bool = True, truncate: bool = False) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; OSError for anything else or, unless
    ``truncate`` (then the first ``limit`` bytes are returned), anything larger."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    if "\x00" in path:
        raise OSError(errno.EINVAL, "the path contains a NUL byte", path)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"{_kind(st.st_mode)}, not a regular file", path)
        if st.st_size > limit and not truncate:
            raise OSError(errno.EFBIG, f"file is larger than {size_text(limit)}", path)
        chunks: list[bytes] = []
        total = 0
        want = limit if truncate else limit + 1
        while total < want:
            chunk = os.read(fd, min(want - total, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise OSError(errno.EFBIG, f"file is larger than {size_text(limit)}", path)
    return b"".join(chunks)


def decode_text(data: bytes, path: str) -> str:
    """``data`` as UTF-8; OSError (EILSEQ) naming the first bad byte otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OSError(errno.EILSEQ, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                      path) from None


def read_text(path: str, limit: int = MiB, *, follow_symlinks: bool = True) -> str:
    """:func:`read_bytes` decoded as UTF-8."""
    return decode_text(read_bytes(path, limit, follow_symlinks=follow_symlinks), path)
