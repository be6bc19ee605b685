"""Hypothesis settings for the fuzz suite: a bounded, derandomized CI budget by default.

``SAFEDEPLOY_FUZZ_EXAMPLES`` scales the number of cases per target (default 200);
the long run is ``scripts/fuzz``, not pytest.
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis")

EXAMPLES = int(os.environ.get("SAFEDEPLOY_FUZZ_EXAMPLES", "200"))

hypothesis.settings.register_profile(
    "safedeploy-ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=list(hypothesis.HealthCheck), max_examples=EXAMPLES)
hypothesis.settings.load_profile("safedeploy-ci")


def pytest_terminal_summary(terminalreporter: object) -> None:
    from tests.fuzz.harness import COUNTS

    if COUNTS["cases"]:
        rate = COUNTS["cases"] / max(COUNTS["seconds"], 1e-9)
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"fuzz: {COUNTS['cases']} in-process cases judged in {COUNTS['seconds']:.1f} s ({rate:.0f} cases/s)")
from tests.deploy.conftest import bed  # noqa: F401,E402  (the deploy bed for the rollback regressions)
