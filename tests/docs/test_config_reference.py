"""Every key of the configuration schema is documented in the reference, and nothing else is.

The keys come from the modules that parse them (``config.load.schema()``), so a key added to
the schema without a line in docs/reference/config.inc fails here. The reference lists each table under a ``~`` heading and
each key as a definition-list term (a line that is just ````key````).
"""

from __future__ import annotations

import pathlib
import re

import pytest

from certbot_safedeploy.config.load import schema

REFERENCE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "reference" / "config.inc"

# table of the schema (load.schema(): "" is the top level) -> its heading in the reference
HEADINGS = {
    "": "Top level",
    "target": "``[[target]]``",
    "target.files": "``[[target]]`` ``files`` entries",
    "target.probe": "``[[target]]`` ``probe``",
    "target.service": "``[[target]]`` ``service`` table",
    "challenge": "``[challenge]``",
    "challenge.zone": "``[[challenge.zone]]``",
    "notify": "``[notify]``",
    "notify.mail": "``[notify] mail``",
    "status": "``[status]``",
    "fleet": "``[fleet]``",
}


def keys_by_heading() -> dict[str, tuple[str, ...]]:
    tables = schema()
    unnamed = sorted(set(tables) - set(HEADINGS))
    assert not unnamed, f"schema tables without a heading here (add one, and its section to config.inc): {unnamed}"
    return {HEADINGS[table]: keys for table, keys in tables.items()}


SCHEMA = keys_by_heading()

_TERM = re.compile(r"^``([a-z_][a-z0-9_]*)``$")


def documented() -> dict[str, list[str]]:
    """Heading -> the keys defined under it, in order."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    tables: dict[str, list[str]] = {}
    current = None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and lines[i + 1].startswith("~") and set(lines[i + 1]) == {"~"} and line:
            assert len(lines[i + 1]) == len(line), f"config.inc:{i + 2}: the underline of {line!r} is not as long as it"
            current = line
            assert current not in tables, f"config.inc:{i + 1}: table {current!r} is documented twice"
            tables[current] = []
        elif current is not None and _TERM.match(line):
            tables[current].append(_TERM.match(line).group(1))  # type: ignore[union-attr]
    return tables


def test_every_table_has_a_section() -> None:
    assert sorted(set(SCHEMA) - set(documented())) == []


@pytest.mark.parametrize("table", sorted(SCHEMA))
def test_every_key_is_documented(table: str) -> None:
    keys = documented().get(table, [])
    missing = [k for k in SCHEMA[table] if k not in keys]
    assert not missing, f"docs/reference/config.inc, {table}: no entry for {', '.join(missing)}"


@pytest.mark.parametrize("table", sorted(SCHEMA))
def test_no_key_is_documented_that_the_schema_refuses(table: str) -> None:
    keys = documented().get(table, [])
    stale = [k for k in keys if k not in SCHEMA[table]]
    assert not stale, f"docs/reference/config.inc, {table}: {', '.join(stale)} is not a key the parser accepts"
    assert len(set(keys)) == len(keys), f"docs/reference/config.inc, {table}: a key is listed twice"


def test_no_documented_table_is_unknown() -> None:
    assert sorted(set(documented()) - set(SCHEMA)) == []
