"""The CLI through subprocesses on generated, damaged trees: every subcommand, fixed seeds.

One line and an exit code of 0-4, within the time limit; never a traceback, a
signal or a hang.  ``scripts/fuzz`` runs the same generator for as long as asked.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.fuzz import clitrees

CASES = int(os.environ.get("SAFEDEPLOY_FUZZ_CLI_CASES", "40"))


@pytest.mark.parametrize("command", clitrees.COMMANDS)
def test_cli_on_hostile_trees(command: str) -> None:
    problems = []
    rng = random.Random(f"cli-{command}")
    for i in range(max(2, CASES // len(clitrees.COMMANDS))):
        work = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
        try:
            problem = clitrees.run(clitrees.generate(random.Random(rng.randrange(2**31)), work, command))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if problem:
            problems.append(problem)
    assert not problems, "\n\n".join(problems)
