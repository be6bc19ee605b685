"""Loud failures on a real SMTP server (aiosmtpd on loopback) and a real command."""

import json
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from certbot_safedeploy.deploy import pipeline


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=closed_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def break_lineage(bed):
    bed.issue()
    (bed.letsencrypt / "archive" / "example.com" / f"cert{bed.generation}.pem").write_bytes(b"")


def test_failed_deploy_mails_and_runs_the_command(bed, smtp, tmp_path):
    inbox, port = smtp
    report_file = tmp_path / "report.json"
    bed.write_config(top=f"""[notify]
mail = {{ to = ["root@example.test"], from = "certbot@host.test", smtp = "127.0.0.1:{port}" }}
command = ["sh", "-c", "cat > {report_file}"]
""")
    break_lineage(bed)
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED
    [mail] = inbox.messages
    assert "deploy failed for example.com" in mail["Subject"] and mail["To"] == "root@example.test"
    assert "file is empty" in mail.get_payload()
    report = json.loads(report_file.read_text())
    assert report["step"] == "deploy" and report["subject"] == "example.com" and report["exit_code"] == 1
    assert "cert.pem: pem: file is empty" in report["message"]
    assert "PRIVATE KEY" not in mail.get_payload() + report_file.read_text()


def test_broken_notifiers_never_change_the_exit_code(bed, tmp_path):
    bed.write_config(top=f"""[notify]
mail = {{ to = ["root@example.test"], smtp = "127.0.0.1:{closed_port()}" }}
command = ["sh", "-c", "exit 7"]
""")
    break_lineage(bed)
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED
    assert "file is empty" in proc.stderr  # the original failure is still there
    assert "notify mail failed: ConnectionRefusedError" in proc.stderr
    assert "notify command failed" in proc.stderr


def test_notify_table_is_validated(bed):
    bed.write_config(top='[notify]\nmail = { to = ["a@b"] }\n')
    proc = bed.run()
    assert proc.returncode == pipeline.REFUSED and "exactly one of smtp" in proc.stderr
