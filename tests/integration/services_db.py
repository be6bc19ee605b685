"""PostgreSQL with TLS on loopback, its postgresql.conf outside the data directory (as on Debian)."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from .postgres import Postgres, pg_bin
from .servers import Process, wait_tcp


class PostgresTls(Postgres):
    service = "postgresql"

    def __init__(self, base: Path, port: int, cert: str, key: str) -> None:
        super().__init__()
        self.port = port
        base.mkdir(parents=True, exist_ok=True)
        self.config = base / "postgresql.conf"  # root's directory, like /etc/postgresql/VERSION/CLUSTER
        self.config.write_text(f"data_directory = '{self.data}'\nhba_file = '{self.data}/pg_hba.conf'\n"
                               f"ident_file = '{self.data}/pg_ident.conf'\nlisten_addresses = '127.0.0.1'\n"
                               f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n")
        pw = pwd.getpwnam("postgres")
        os.chown(os.path.realpath(key), pw.pw_uid, pw.pw_gid)  # how admins let postgres read certbot's key

    def start(self) -> "PostgresTls":
        argv = [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sockets),
                "-c", f"config_file={self.config}", "-c", "fsync=off"]
        self.process = Process(argv, self.statement_log, user="postgres")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.statement_log)
        return self

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.base, ignore_errors=True)
