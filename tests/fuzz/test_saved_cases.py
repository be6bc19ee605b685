"""Every case a fuzz run ever saved (tests/fuzz/cases/*.json) replays as a regression test, for ever."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.fuzz import clitrees
from tests.fuzz.harness import check, load, saved_cases


@pytest.mark.parametrize("path", saved_cases(), ids=lambda p: p.name)
def test_saved_case(path: Path) -> None:
    if json.loads(path.read_text()).get("target") == "cli":
        seed = json.loads(path.read_text())["seed"]
        work = Path(tempfile.mkdtemp(prefix="fuzz-cli-case-"))
        try:
            problem = clitrees.run(clitrees.generate(random.Random(seed), work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        assert problem is None, problem
        return
    target, parts = load(path)
    check(target, parts)
