"""Coverage-guided fuzzing with atheris (libFuzzer), when it installs: ``scripts/fuzz --engine atheris``.

An input is ``[target index][4-byte length, part]...``; the corpus starts from
every target's seeds in that encoding, so libFuzzer mutates real inputs and keeps
those that reach new code.  A crash is saved under ``tests/fuzz/cases/`` like the
hypothesis and random engines' crashes, then reported to libFuzzer.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import List

import atheris

with atheris.instrument_imports(include=["certbot_safedeploy"]):
    import importlib
    import pkgutil

    import certbot_safedeploy

    for _module in pkgutil.walk_packages(certbot_safedeploy.__path__, "certbot_safedeploy."):
        if _module.name.split(".")[-1] not in ("plugin", "__main__") and ".fleet.db" not in _module.name:
            importlib.import_module(_module.name)  # every module now, so that every one is instrumented

from tests.fuzz.harness import CASES, judge, save, seeds_of  # noqa: E402
from tests.fuzz.targets import TARGETS  # noqa: E402

NAMES = sorted(TARGETS)


def encode(index: int, parts: List[bytes]) -> bytes:
    return bytes([index]) + b"".join(struct.pack("!I", len(p)) + p for p in parts)


def decode(data: bytes) -> tuple:
    name = NAMES[data[0] % len(NAMES)] if data else NAMES[0]
    width = len(seeds_of(TARGETS[name])[0])
    parts, pos = [], 1
    for _ in range(width):
        size = struct.unpack("!I", data[pos:pos + 4].ljust(4, b"\0"))[0] % (1 << 22)
        parts.append(data[pos + 4:pos + 4 + size])
        pos += 4 + size
    return name, parts


def write_corpus(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(NAMES):
        for n, parts in enumerate(seeds_of(TARGETS[name])):
            (directory / f"{name}-{n}").write_bytes(encode(index, parts))


def test_one_input(data: bytes) -> None:
    name, parts = decode(data)
    problem = judge(TARGETS[name], parts)
    if problem is not None:
        path = save(name, parts, Path(os.environ.get("SAFEDEPLOY_FUZZ_CRASHES") or CASES))
        raise RuntimeError(f"{name}: {problem.strip().splitlines()[-1]} (saved as {path})")


def main() -> None:
    corpus = Path(os.environ.get("SAFEDEPLOY_FUZZ_CORPUS", "/tmp/safedeploy-fuzz-corpus"))
    write_corpus(corpus)
    atheris.Setup([sys.argv[0], *sys.argv[1:], str(corpus)], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
