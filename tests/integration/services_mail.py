"""Postfix (SMTP STARTTLS) and Dovecot (IMAP STARTTLS) on loopback, each from its own config.

The base directory must be traversable by the services' unprivileged users
(``postfix``, ``dovenull``): the tests make it under /tmp with mode 0755.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests import dovecot

from .servers import Process, wait_tcp

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
tlsmgr    unix  -  -  n  1000?  1  tlsmgr
cleanup   unix  n  -  n  -      0  cleanup
qmgr      unix  n  -  n  300    1  qmgr
rewrite   unix  -  -  n  -      -  trivial-rewrite
bounce    unix  -  -  n  -      0  bounce
defer     unix  -  -  n  -      0  bounce
trace     unix  -  -  n  -      0  bounce
verify    unix  -  -  n  -      1  verify
flush     unix  n  -  n  1000?  0  flush
proxymap  unix  -  -  n  -      -  proxymap
anvil     unix  -  -  n  -      1  anvil
scache    unix  -  -  n  -      1  scache
postlog   unix-dgram n  -  n  - 1  postlogd
"""


class Postfix:
    service = "postfix"

    def __init__(self, base: Path, port: int, cert: str, key: str) -> None:
        self.base, self.port = base, port
        self.config = base / "etc"  # postfix's configuration is a directory
        self.config.mkdir(parents=True, exist_ok=True)
        (base / "queue").mkdir(exist_ok=True)
        (base / "data").mkdir(exist_ok=True)
        shutil.chown(base / "data", "postfix")
        self.log = base / "maillog"
        (self.config / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {base}/queue
data_directory = {base}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.example.com
mydestination =
maillog_file = {self.log}
maillog_file_prefixes = {base}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
""")
        (self.config / "master.cf").write_text(MASTER_CF.format(port=port))
        self.process: Process | None = None

    def start(self) -> "Postfix":
        subprocess.run(["postfix", "-c", str(self.config), "check"], check=True, capture_output=True)
        self.process = Process(["postfix", "-c", str(self.config), "start-fg"], self.base / "stdout.log")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.log)
        return self

    def stop(self) -> None:
        if self.process:
            subprocess.run(["postfix", "-c", str(self.config), "stop"], capture_output=True, timeout=30)
            self.process.stop()


class Dovecot:
    """The installed Dovecot, configured in its own syntax: 2.3 (Debian 12) or 2.4 (Debian 13)."""

    service = "dovecot"

    def __init__(self, base: Path, port: int, cert: str, key: str) -> None:
        self.base, self.port = base, port
        base.mkdir(parents=True, exist_ok=True)
        for sub in ("run", "state", "home"):
            (base / sub).mkdir(exist_ok=True)
        self.config = base / "dovecot.conf"
        self.log = base / "dovecot.log"
        if dovecot.is_24():
            auth = f"""\
passdb static {{
  fields {{
    nopassword = yes
  }}
}}
userdb static {{
  fields {{
    uid = nobody
    gid = nogroup
    home = {base}/home
  }}
}}
"""
            address = "listen"
        else:
            auth = f"""\
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home
}}
"""
            address = "address"
        self.config.write_text(f"""\
{dovecot.head()}base_dir = {base}/run
state_dir = {base}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = yes
{dovecot.tls(cert, key)}{auth}service imap-login {{
  inet_listener imap {{
    {address} = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        self.process: Process | None = None

    def start(self) -> "Dovecot":
        subprocess.run(["doveconf", "-n", "-c", str(self.config)], check=True, capture_output=True)
        self.process = Process(["dovecot", "-F", "-c", str(self.config)], self.base / "stdout.log")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.log)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def traversable_dir(prefix: str) -> Path:
    """A fresh 0755 directory under /tmp (pytest's own temp dirs are 0700)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(path, 0o755)
    return path
