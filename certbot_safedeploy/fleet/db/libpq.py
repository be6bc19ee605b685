"""A minimal libpq client for the pull's hot path (PostgreSQL's own C driver, via ctypes).

``import psycopg`` costs about 240 ms on the machines this project is measured
on (asyncio, importlib.metadata, its error classes), more than the whole budget
of a pull that finds nothing new.  psycopg is itself a wrapper around libpq;
calling libpq's documented C API directly costs a ``ctypes`` import instead.

Only what the check-in and the report need is here: ``PQconnectdbParams``
(keyword/value arrays, so no conninfo quoting), one ``PQexecParams`` per
statement (the extended query protocol in one round trip, unnamed statement,
text parameters whose types the server infers) and text results.  TLS, SCRAM,
``sslmode`` and the other connection options are libpq's, exactly as psycopg
would pass them.

The library is the system's ``libpq.so.5`` (Debian: ``libpq5``), else the copy
that ``psycopg[binary]`` bundles; :func:`load` returns None when neither is
there, and the caller falls back to psycopg.  See
https://www.postgresql.org/docs/current/libpq.html.
"""

from __future__ import annotations

import ctypes
import os
from typing import Mapping, Optional, Sequence

CONNECTION_OK = 0
PGRES_COMMAND_OK, PGRES_TUPLES_OK = 1, 2
Value = Optional[str]


class LibpqError(Exception):
    """The server or libpq refused: the first line of libpq's message."""


def _candidates() -> list[str]:
    names = ["libpq.so.5"]
    try:
        import importlib.util

        spec = importlib.util.find_spec("psycopg_binary")  # finds, does not import
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        libs = os.path.join(os.path.dirname(os.path.dirname(spec.origin)), "psycopg_binary.libs")
        try:
            names += sorted(os.path.join(libs, n) for n in os.listdir(libs) if n.startswith("libpq"))
        except OSError:
            pass
    return names


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    strings = ctypes.POINTER(ctypes.c_char_p)
    signatures = {
        "PQconnectdbParams": (p, [strings, strings, i]),
        "PQstatus": (i, [p]),
        "PQerrorMessage": (s, [p]),
        "PQfinish": (None, [p]),
        "PQexecParams": (p, [p, s, i, p, strings, p, p, i]),
        "PQresultStatus": (i, [p]),
        "PQresultErrorMessage": (s, [p]),
        "PQntuples": (i, [p]),
        "PQnfields": (i, [p]),
        "PQgetvalue": (p, [p, i, i]),
        "PQgetlength": (i, [p, i, i]),
        "PQgetisnull": (i, [p, i, i]),
        "PQclear": (None, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


_LOADED: list[Optional[ctypes.CDLL]] = []


def load() -> Optional[ctypes.CDLL]:
    """libpq with its signatures declared, or None when no libpq can be loaded."""
    if not _LOADED:
        found: Optional[ctypes.CDLL] = None
        for name in _candidates():
            try:
                found = _declare(ctypes.CDLL(name))
                break
            except (OSError, AttributeError):
                continue
        _LOADED.append(found)
    return _LOADED[0]


def _strings(values: Sequence[Value]) -> ctypes.Array[ctypes.c_char_p]:
    array = (ctypes.c_char_p * (len(values) + 1))()
    for index, value in enumerate(values):
        array[index] = None if value is None else value.encode("utf-8")
    return array


def _first_line(raw: Optional[bytes], default: str) -> str:
    text = (raw or b"").decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else default


def array_literal(values: Sequence[Value]) -> str:
    """A PostgreSQL array literal of text elements (``NULL`` for None)."""
    def element(value: Value) -> str:
        if value is None:
            return "NULL"
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(element(v) for v in values) + "}"


class Connection:
    """One libpq connection; :meth:`execute` runs one statement and returns its rows."""

    def __init__(self, lib: ctypes.CDLL, params: Mapping[str, str]) -> None:
        self._lib = lib
        keys, values = list(params), [params[k] for k in params]
        self._conn = lib.PQconnectdbParams(_strings(keys), _strings(values), 0)
        if not self._conn:
            raise LibpqError("libpq could not allocate a connection")
        if lib.PQstatus(self._conn) != CONNECTION_OK:
            message = _first_line(lib.PQerrorMessage(self._conn), "connection failed")
            self.close()
            raise LibpqError(message)

    def execute(self, sql: str, params: Sequence[Value]) -> list[tuple[Value, ...]]:
        """Run ``sql`` with ``$1``.. bound to ``params`` (text); rows as text or None."""
        if not self._conn:
            raise LibpqError("the connection is closed")
        lib = self._lib
        result = lib.PQexecParams(self._conn, sql.encode("utf-8"), len(params), None,
                                  _strings(params), None, None, 0)
        if not result:
            raise LibpqError(_first_line(lib.PQerrorMessage(self._conn), "the statement failed"))
        try:
            status = lib.PQresultStatus(result)
            if status not in (PGRES_COMMAND_OK, PGRES_TUPLES_OK):
                raise LibpqError(_first_line(lib.PQresultErrorMessage(result), "the statement failed"))
            rows: list[tuple[Value, ...]] = []
            for row in range(lib.PQntuples(result)):
                cells: list[Value] = []
                for column in range(lib.PQnfields(result)):
                    if lib.PQgetisnull(result, row, column):
                        cells.append(None)
                        continue
                    raw = ctypes.string_at(lib.PQgetvalue(result, row, column),
                                           lib.PQgetlength(result, row, column))
                    cells.append(raw.decode("utf-8", "replace"))
                rows.append(tuple(cells))
            return rows
        finally:
            lib.PQclear(result)

    def close(self) -> None:
        if self._conn:
            self._lib.PQfinish(self._conn)
            self._conn = None
