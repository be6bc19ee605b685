"""Apache httpd and HAProxy on loopback, each from its own config in a temp dir.

The configs read whatever certificate paths the test gives them (certbot's
live/ files at first, as on a machine that has not adopted the gate).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .servers import Process, wait_tcp

APACHE_MODULES = "/usr/lib/apache2/modules"


class Apache:
    service = "apache2"

    def __init__(self, base: Path, port: int, cert: str, key: str) -> None:
        self.base, self.port = base, port
        base.mkdir(parents=True, exist_ok=True)
        self.config = base / "apache2.conf"
        self.pidfile = base / "httpd.pid"
        modules = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so"
                            for m in ("mpm_event", "authz_core", "ssl", "socache_shmcb"))
        self.config.write_text(f"""\
ServerRoot {base}
PidFile {self.pidfile}
DefaultRuntimeDir {base}
Mutex file:{base}
ServerName localhost
{modules}
User www-data
Group www-data
ErrorLog {base}/error.log
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName example.com
    SSLEngine on
    SSLCertificateFile {cert}
    SSLCertificateKeyFile "{key}"
</VirtualHost>
""")
        self.process: Process | None = None

    def start(self) -> "Apache":
        subprocess.run(["apache2ctl", "-f", str(self.config), "-t"], check=True, capture_output=True)
        self.process = Process(["apache2", "-f", str(self.config), "-DFOREGROUND"], self.base / "stdout.log")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.base / "error.log")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()


class HAProxy:
    service = "haproxy"

    def __init__(self, base: Path, port: int, crt: str) -> None:
        self.base, self.port = base, port
        base.mkdir(parents=True, exist_ok=True)
        self.config = base / "haproxy.cfg"
        self.pidfile = base / "haproxy.pid"
        self.config.write_text(f"""\
global
    master-worker
    pidfile {self.pidfile}

defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend tls
    bind 127.0.0.1:{port} ssl crt {crt}
    http-request return status 200 content-type text/plain string ok
""")
        self.process: Process | None = None

    def start(self) -> "HAProxy":
        subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config)], check=True, capture_output=True)
        self.process = Process(["haproxy", "-W", "-f", str(self.config), "-p", str(self.pidfile)],
                               self.base / "haproxy.log")
        wait_tcp("127.0.0.1", self.port, proc=self.process.proc, log=self.base / "haproxy.log")
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()
