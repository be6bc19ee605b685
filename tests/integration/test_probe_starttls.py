"""STARTTLS probes against real Debian servers on loopback: Dovecot (IMAP, POP3),
slapd (LDAP StartTLS extended operation) and PostgreSQL (SSLRequest)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.deploy import tlsclient
from certbot_safedeploy.deploy.starttls import StartTlsError
from tests.pki import Pki

from .postgres import Postgres
from .servers import Process, free_port, wait_tcp


@pytest.fixture(scope="module")
def material():
    pki = Pki.create("Mail")
    leaf = pki.leaf("mail.example.com")
    base = Path(tempfile.mkdtemp(prefix="safedeploy-starttls-"))
    os.chmod(base, 0o755)
    (base / "fullchain.pem").write_bytes(leaf.pem + pki.intermediate.pem)
    (base / "privkey.pem").write_bytes(leaf.key_pem)
    os.chmod(base / "privkey.pem", 0o600)
    (base / "root.pem").write_bytes(pki.root.pem)
    yield base, leaf.cert.public_bytes(Encoding.DER), pki.intermediate.cert.public_bytes(Encoding.DER)
    shutil.rmtree(base, ignore_errors=True)


def dovecot(base: Path, cert: Path, key: Path, imap: int, pop3: int) -> Process:
    (base / "run").mkdir(parents=True)
    conf = base / "dovecot.conf"
    conf.write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
passdb {{
  driver = static
  args = password=unused
}}
userdb {{
  driver = static
  args = uid=root gid=root home={base}/home
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
""")
    proc = Process(["dovecot", "-F", "-c", str(conf)], base / "stdout.log")
    for port in (imap, pop3):
        wait_tcp("127.0.0.1", port, proc=proc.proc, log=base / "dovecot.log")
    return proc


def slapd(base: Path, port: int, tls: str) -> Process:
    (base / "db").mkdir(parents=True)
    conf = base / "slapd.conf"
    conf.write_text(f"""include /etc/ldap/schema/core.schema
pidfile {base}/slapd.pid
argsfile {base}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
{tls}
database mdb
suffix "dc=example,dc=com"
directory {base}/db
""")
    proc = Process(["slapd", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"], base / "slapd.log")
    wait_tcp("127.0.0.1", port, proc=proc.proc, log=base / "slapd.log")
    return proc


def test_dovecot_imap_and_pop3(tmp_path, material):
    base, leaf, intermediate = material
    imap, pop3 = free_port(), free_port()
    server = dovecot(tmp_path / "dovecot", base / "fullchain.pem", base / "privkey.pem", imap, pop3)
    try:
        for protocol, port in (("imap", imap), ("pop3", pop3)):
            served = tlsclient.fetch("127.0.0.1", port, "mail.example.com", 5, protocol)
            assert (served.leaf, served.chain) == (leaf, (intermediate,)), protocol
        check = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "verify", "--connect",
                                f"127.0.0.1:{imap}", "--starttls", "imap", "--servername", "mail.example.com",
                                "--trust-anchor", str(base / "root.pem")], capture_output=True, text=True)
    finally:
        server.stop()
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == (f"127.0.0.1:{imap} (SNI mail.example.com via STARTTLS/imap): OK "
                                    "(0 error(s), 0 warning(s))")


def test_slapd_starttls_extended_operation(tmp_path, material):
    base, leaf, intermediate = material
    port = free_port()
    tls = f"TLSCertificateFile {base}/fullchain.pem\nTLSCertificateKeyFile {base}/privkey.pem"
    server = slapd(tmp_path / "slapd", port, tls)
    try:
        served = tlsclient.fetch("127.0.0.1", port, "ldap.example.com", 5, "ldap")
    finally:
        server.stop()
    assert (served.leaf, served.chain) == (leaf, (intermediate,))


def test_slapd_without_tls_is_a_clear_refusal(tmp_path):
    port = free_port()
    server = slapd(tmp_path / "slapd", port, "")
    try:
        with pytest.raises(StartTlsError, match=r"ldap: StartTLS answered 2 \(protocolError\): "
                                                r"unsupported extended operation \(is TLS configured"):
            tlsclient.fetch("127.0.0.1", port, "ldap.example.com", 5, "ldap")
    finally:
        server.stop()


def test_postgres_sslrequest(material):
    base, leaf, intermediate = material
    pg = Postgres()
    pw = pwd.getpwnam("postgres")
    for name in ("fullchain.pem", "privkey.pem"):
        shutil.copy(base / name, pg.base / name)
        os.chown(pg.base / name, pw.pw_uid, pw.pw_gid)
    with open(pg.data / "postgresql.conf", "a") as conf:
        conf.write(f"ssl = on\nssl_cert_file = '{pg.base}/fullchain.pem'\nssl_key_file = '{pg.base}/privkey.pem'\n")
    pg.start()
    try:
        served = tlsclient.fetch("127.0.0.1", pg.port, "db.example.com", 5, "postgres")
    finally:
        pg.remove()
    assert (served.leaf, served.chain) == (leaf, (intermediate,))
