"""Each table of the config is parsed once, by the module that owns its schema.

* Only config/ reads TOML: no other module imports tomllib, the reader or a section parser.
* Every ``TableReader.table(value, path, ALLOWED)`` call names a key tuple of its own module,
  and every table's keys are defined in exactly one module.
* No module outside config/ looks at raw tables (``raw_sections``) or builds settings from a table.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

from certbot_safedeploy.config import challenge_section, fleet_section, report_sections, target_section
from certbot_safedeploy.config.load import TOP_LEVEL, parse_config, schema

PACKAGE = Path(__file__).resolve().parents[2] / "certbot_safedeploy"
SECTION_MODULES = {"load", "challenge_section", "fleet_section", "report_sections", "target_section"}
PARSERS = {"parse_toml", "TableReader", "tomllib", "tomli", "settings_from_table", "parse_challenge",
           "parse_fleet", "parse_notify", "parse_status", "parse_targets", "parse_target"}


def _trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_only_config_reads_toml_or_parses_a_section():
    offenders = []
    for path, tree in _trees():
        if path.parent.name == "config":
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Attribute) and node.attr == "raw_sections":
                names = ["raw_sections"]
            hits = [n for n in names if n.split(".")[-1] in PARSERS | {"raw_sections", "reader"}
                    and (n.startswith("certbot_safedeploy.config") or n in PARSERS | {"raw_sections"})]
            if hits:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {hits}")
    assert offenders == []


def test_every_table_call_names_its_own_modules_key_tuple():
    defined = collections.defaultdict(set)  # constant name -> modules
    for path, tree in _trees():
        if path.parent.name != "config":
            continue
        consts = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        for name in consts:
            if name.endswith("KEYS") or name == "TOP_LEVEL":
                defined[name].add(path.stem)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "table"
                    and len(node.args) == 3):
                allowed = node.args[2]
                ok = isinstance(allowed, ast.Name) and allowed.id in consts
                # a table whose keys are the user's own (webroot_map's names) is the one exception
                ok = ok or (path.stem == "challenge_section" and isinstance(allowed, ast.IfExp))
                assert ok, f"config/{path.stem}.py:{node.lineno}: table() must name a key tuple of this module"
    assert {k: v for k, v in defined.items() if len(v) > 1} == {}


def test_the_schema_is_the_parsers_own():
    tables = schema()
    assert tables[""] == TOP_LEVEL
    assert tables["target"] is target_section.TARGET_KEYS and tables["fleet"] is fleet_section.KEYS
    assert tables["challenge"] is challenge_section.TABLE_KEYS and tables["notify"] is report_sections.NOTIFY_KEYS
    # every key of every table is accepted where it stands, and nothing else is
    for key in TOP_LEVEL:
        assert key in tables or key in ("trust_anchors", "backups", "state_dir")


def test_an_unknown_key_is_named_with_its_line_in_every_table():
    cases = {
        "[notify]\nbogus = 1\n": "notify.bogus",
        "[status]\nbogus = 1\n": "status.bogus",
        "[challenge]\nbogus = 1\n": "challenge.bogus",
        "[[challenge.zone]]\nname = \"a.com\"\nbogus = 1\n": "challenge.zone[0].bogus",
        "[fleet]\nserver = \"w\"\nbogus = 1\n": "fleet.bogus",
        "[[target]]\nname = \"w\"\nlineage = \"a\"\nfiles = []\nbogus = 1\n": "target[0].bogus",
    }
    for text, where in cases.items():
        try:
            parse_config(text, "/etc/s.toml")
        except Exception as exc:  # noqa: BLE001 - the assertion names what came out
            line = str(exc)
        else:
            raise AssertionError(f"accepted {text!r}")
        assert line.startswith("/etc/s.toml:") and f"{where}: unknown key 'bogus'" in line, line
        assert line.split(":")[1].isdigit(), f"no line number in {line!r}"
