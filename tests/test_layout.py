"""The package's import graph: no cycles, and no import from a lower layer up to a higher one.

Every import counts, at module level or deferred inside a function: a deferred
import is still a dependency, only a cheaper one.  The layers, lowest first:
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "certbot_safedeploy"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "syntax", "verify"),  # the pure core
    ("material", "system", "report"),  # readers and effects
    ("config",),  # the one configuration model
    ("ari", "challenges", "deploy", "services", "doctor", "fleet"),  # the domain packages
    ("commands",),  # command bodies
    ("cli", "hooks", "plugin", "__main__"),  # the three faces (and python -m)
]
# inside fleet/, the database and the rules sit below the commands that use them
FLEET_LAYERS: list[tuple[str, ...]] = [
    ("rules",),
    ("db",),
    ("arisignal", "central", "enroll", "localstate", "pull", "renew", "units"),
]
ALLOWED_TOP_LEVEL = {"__init__", "__main__", "errors", "cli", "hooks", "plugin"}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = collections.defaultdict(set)
    for mod, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{mod}: relative import (the package uses absolute imports)"
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != mod and target != "certbot_safedeploy" and not mod.startswith(target + "."):
                    edges[mod].add(target)
    return edges


def _layer(mod: str) -> tuple[int, int]:
    parts = mod.split(".")[1:]
    if not parts:
        return (len(LAYERS), 0)
    outer = next(i for i, layer in enumerate(LAYERS) if parts[0] in layer)
    inner = 0
    if parts[0] == "fleet" and len(parts) > 1:
        inner = next(i for i, layer in enumerate(FLEET_LAYERS) if parts[1] in layer)
    elif parts[0] == "fleet":
        inner = len(FLEET_LAYERS)
    return outer, inner


MODULES = _modules()
EDGES = _imports(MODULES)


def test_every_module_has_a_layer():
    for mod in MODULES:
        if mod != "certbot_safedeploy":
            _layer(mod)  # StopIteration names a package missing from LAYERS


def test_the_top_level_holds_only_the_faces():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= ALLOWED_TOP_LEVEL, f"loose modules at the top level: {sorted(top - ALLOWED_TOP_LEVEL)}"


@pytest.mark.parametrize("mod", sorted(EDGES))
def test_no_import_goes_up_a_layer(mod):
    upward = [t for t in EDGES[mod] if _layer(t) > _layer(mod)
              and not (_layer(t)[0] == _layer(mod)[0] and mod.split(".")[1] != t.split(".")[1])]
    assert not upward, f"{mod} imports from a higher layer: {sorted(upward)}"


def test_no_import_cycle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in EDGES.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for mod in MODULES:
        if mod not in index:
            strong(mod)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_catch_what_they_forbid():
    """A control: the rules above reject a made-up upward import and a made-up cycle."""
    assert _layer("certbot_safedeploy.verify.path") < _layer("certbot_safedeploy.config.load")
    assert _layer("certbot_safedeploy.fleet.rules.csr") < _layer("certbot_safedeploy.fleet.db.store")
    assert _layer("certbot_safedeploy.fleet.db.store") < _layer("certbot_safedeploy.fleet.renew")
    assert _layer("certbot_safedeploy.commands.deploy") < _layer("certbot_safedeploy.cli")


def test_no_file_name_is_used_twice():
    names = collections.Counter(p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    assert [n for n, c in names.items() if c > 1] == []
