"""Fixtures for the integration tests: a private network namespace and real servers."""

from __future__ import annotations

import pytest

from .netns import enter_private_netns


def pytest_collection_modifyitems(items):  # every test in this folder is an integration test
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def private_netns() -> None:
    enter_private_netns()
