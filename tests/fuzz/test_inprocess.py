"""Every parser of outside input, driven by hypothesis: success or the project's own error, never a crash.

Each example is a seed from the project's own material with structure-aware
mutations (:mod:`tests.fuzz.mutate`), or raw bytes in every part.  The budget is
fixed and derandomized (``conftest.py``), so CI runs the same cases every time.
"""

from __future__ import annotations

import pytest

from tests.fuzz.harness import check, generate, seeds_of
from tests.fuzz.targets import TARGETS
from tests.fuzz.conftest import EXAMPLES

from hypothesis import given, settings, strategies as st  # noqa: E402  (conftest skipped without it)

SLOW = {"dns_reply": 4, "hooks": 3, "lineage": 2, "pem": 2}  # divide the budget: these cost ms per case


def _case(name: str) -> st.SearchStrategy:
    target = TARGETS[name]
    width = len(seeds_of(target)[0])
    mutated = st.randoms(use_true_random=False).map(lambda rng: generate(target, rng))
    raw = st.lists(st.binary(max_size=600), min_size=width, max_size=width)
    return st.one_of(mutated, mutated, mutated, raw)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_never_crashes(name: str) -> None:
    @settings(max_examples=max(10, EXAMPLES // SLOW.get(name, 1)))
    @given(parts=_case(name))
    def run(parts: list) -> None:
        check(name, parts)

    run()
