"""OpenLDAP slapd on loopback with its own cn=config directory (LDAP StartTLS).

slapd has no reload signal; changing an olcTLS* attribute over ldapi rebuilds its
TLS context in place, so the tests' reload rewrites the same TLS paths.
"""

from __future__ import annotations

import subprocess
import urllib.parse
from pathlib import Path

from .servers import Process, wait_tcp

CONFIG_LDIF = """\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {base}/slapd.pid
olcTLSCertificateFile: {cert}
olcTLSCertificateKeyFile: {key}
{ca}
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break
"""

RELOAD_LDIF = """\
dn: cn=config
changetype: modify
replace: olcTLSCertificateFile
olcTLSCertificateFile: {cert}
-
replace: olcTLSCertificateKeyFile
olcTLSCertificateKeyFile: {key}
"""


class Slapd:
    service = "slapd"

    def __init__(self, base: Path, port: int, cert: str, key: str, ca: str | None = None) -> None:
        """``ca``: olcTLSCACertificateFile, from which slapd also sends the intermediates."""
        self.base, self.port = base, port
        self.config = base / "slapd.d"
        self.config.mkdir(parents=True, exist_ok=True)
        self.ldapi = "ldapi://" + urllib.parse.quote(str(base / "ldapi"), safe="")
        ldif = base / "config.ldif"
        ldif.write_text(CONFIG_LDIF.format(base=base, cert=cert, key=key,
                                           ca=f"olcTLSCACertificateFile: {ca}\n" if ca else ""))
        subprocess.run(["slapadd", "-n0", "-F", str(self.config), "-l", str(ldif)], check=True, capture_output=True)
        self.process: Process | None = None

    def reload_argv(self, cert: str, key: str) -> list[str]:
        """ldapmodify that sets the TLS paths (to the same values): slapd reloads its TLS context."""
        ldif = self.base / "reload.ldif"
        ldif.write_text(RELOAD_LDIF.format(cert=cert, key=key))
        return ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi, "-f", str(ldif)]

    def start(self) -> "Slapd":
        self.process = Process(["slapd", "-d", "0", "-F", str(self.config),
                                "-h", f"ldap://127.0.0.1:{self.port}/ {self.ldapi}"], self.base / "slapd.log")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.base / "slapd.log")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()
