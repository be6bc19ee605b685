"""A throw-away PostgreSQL (Debian's ``postgresql`` package) on a loopback port.

The cluster lives in its own directory under /tmp (pytest's 0700 temp dirs are
closed to the ``postgres`` user), listens on 127.0.0.1 only, trusts the local
socket for set-up, and asks TCP clients for a SCRAM password.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from .servers import Process, free_port, wait_tcp


def pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup (apt-get install postgresql)")
    return found[-1]


class Postgres:
    def __init__(self, *, log_statements: bool = False) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="safedeploy-pg-"))
        pw = pwd.getpwnam("postgres")
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self.data, self.sockets = self.base / "data", self.base / "sockets"
        self.port = free_port()
        self.password = "fleet-" + os.urandom(8).hex()
        self.log_statements = log_statements
        self.process: Process | None = None
        self.sockets.mkdir()
        os.chown(self.sockets, pw.pw_uid, pw.pw_gid)
        subprocess.run(["runuser", "-u", "postgres", "--", pg_bin("initdb"), "-D", str(self.data),
                        "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True)

    @property
    def url(self) -> str:
        return self.url_for("fleet")

    def url_for(self, role: str) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/fleet"

    @property
    def statement_log(self) -> Path:
        return self.base / "postgres.log"

    def start(self) -> "Postgres":
        argv = [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sockets),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off"]
        if self.log_statements:
            argv += ["-c", "log_statement=all", "-c", "log_line_prefix=%a|"]
        self.process = Process(argv, self.statement_log, user="postgres")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.statement_log)
        return self

    def psql(self, sql: str, db: str = "postgres") -> str:
        return subprocess.run(["runuser", "-u", "postgres", "--", pg_bin("psql"), "-h", str(self.sockets),
                               "-p", str(self.port), "-d", db, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
                              check=True, capture_output=True, text=True).stdout

    def create_fleet_db(self) -> None:
        """The central host's role owns the database; CREATEROLE lets it run `fleet grant`."""
        self.psql(f"CREATE ROLE fleet LOGIN CREATEROLE PASSWORD '{self.password}'")
        self.psql("CREATE DATABASE fleet OWNER fleet")

    def stop(self) -> None:
        if self.process:
            self.process.stop()
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
