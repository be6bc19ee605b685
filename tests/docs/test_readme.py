"""README.rst stays short, valid reStructuredText (setup.cfg's long_description), and its links
into docs/ name files that exist."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.rst").read_text(encoding="utf-8")


def test_readme_links_into_docs_exist() -> None:
    targets = set(re.findall(r"<(docs/[^>]+)>`_", README)) | set(re.findall(r"^\.\. _[^:]+: (docs/\S+)$", README, re.M))
    assert targets, "README.rst links into docs/"
    assert sorted(t for t in targets if not (ROOT / t).is_file()) == []


def test_readme_keeps_the_two_commands() -> None:
    assert "    ./scripts/demo    # installs everything, then issues, deploys and serves a certificate\n" in README
    assert "    ./scripts/test    # installs everything, then runs the whole test suite\n" in README


def test_readme_fits_on_a_few_screens() -> None:
    # the two commands, the install lines and the platform table; everything else is in docs/
    assert len(README.splitlines()) <= 150


def test_readme_is_valid_restructuredtext() -> None:
    core = pytest.importorskip("docutils.core", reason="docutils comes with Sphinx, in .venv only")
    from docutils.utils import SystemMessage

    try:
        core.publish_doctree(README, settings_overrides={"halt_level": 2, "report_level": 2, "warning_stream": False})
    except SystemMessage as exc:  # pragma: no cover - the failure's message
        raise AssertionError(f"README.rst: {exc}") from None
