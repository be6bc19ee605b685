"""Read TOML text into tables, and report every problem in one style.

Every section parser gets a :class:`TableReader`.  Its errors all look the same:
``FILE:LINE: key.path: what is wrong (fix: what to do)``, with the line found by
:func:`~certbot_safedeploy.config.tomlsource.locate` (``tomllib`` reports no
positions for semantic errors).  Pure: text in, tables or :class:`ConfigError` out.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Sequence

from certbot_safedeploy.config.tomldepth import MAX_DEPTH, nesting_depth
from certbot_safedeploy.config.tomlsource import PathPart, locate
from certbot_safedeploy.errors import ConfigError
from certbot_safedeploy.syntax.numbers import is_decimal
from certbot_safedeploy.syntax.pathnames import path_fix, path_problem, shown_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

_ACCOUNT = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\$?", re.I | re.ASCII)


def dotted(path: Sequence[PathPart]) -> str:
    """``["target", 1, "files", 0, "mode"]`` -> ``target[1].files[0].mode``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The top-level table of ``text``; a syntax error is one :class:`ConfigError`."""
    depth, line = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise ConfigError(f"values nest more than {MAX_DEPTH} levels deep", path=f"{source}:{line}",
                          fix="flatten the arrays and inline tables at the line shown")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=source,
                          fix="fix the syntax at the line shown") from None
    except ValueError as exc:  # Python >= 3.11: an integer of over 4300 digits (int_max_str_digits)
        raise ConfigError(f"a value tomllib cannot hold: {str(exc)[:100]}", path=source,
                          fix="write numbers of a sensible size") from None
    except RecursionError:  # dotted keys or a parser the scan above does not foresee
        raise ConfigError("values nest too deeply for the TOML parser", path=source,
                          fix=f"flatten the config to at most {MAX_DEPTH} levels") from None


class TableReader:
    """Typed access to the tables of one config text, with errors that name file, line and key."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source

    def fail(self, path: Sequence[PathPart], message: str, fix: str = "") -> ConfigError:
        line = locate(self.text, path)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{dotted(path)}: {message}" if path else message, path=where, fix=fix)

    def table(self, value: Any, path: Sequence[PathPart], allowed: Sequence[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {type(value).__name__}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.fail([*path, unknown[0]], f"unknown key {unknown[0]!r}",
                            f"allowed here: {', '.join(allowed)}")
        return value

    def tables(self, value: Any, path: Sequence[PathPart], header: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array of tables: write [[{header}]]")
        return value

    def string(self, value: Any, path: Sequence[PathPart]) -> str:
        if not isinstance(value, str) or not value or "\x00" in value:
            raise self.fail(path, "must be a non-empty string")
        return value

    def strings(self, value: Any, path: Sequence[PathPart], *, empty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(path, "must be a list of strings")
        items = tuple(self.string(v, [*path, i]) for i, v in enumerate(value))
        if not items and not empty:
            raise self.fail(path, "must not be empty")
        return items

    def abspath(self, value: Any, path: Sequence[PathPart]) -> str:
        text = self.string(value, path)
        problem = path_problem(text)
        if problem:
            raise self.fail(path, f"{shown_path(text)} {problem}", path_fix(problem))
        return text

    def argv(self, value: Any, path: Sequence[PathPart]) -> tuple[str, ...]:
        return self.strings(value, path, empty=False)

    def account(self, value: Any, path: Sequence[PathPart]) -> str:
        text = self.string(value, path)
        if not _ACCOUNT.fullmatch(text) and not is_decimal(text):
            raise self.fail(path, f"{text!r} is not a valid user or group name")
        return text

    def number(self, value: Any, path: Sequence[PathPart], low: float, high: float, *,
               whole: bool = False) -> float:
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            raise self.fail(path, f"must be a {'whole ' if whole else ''}number from {low:g} to {high:g}")
        return value
