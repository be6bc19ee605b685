"""The central host's commands on SQLite: allow, disallow, allowed, forget, grant."""

import base64
import hashlib
import hmac

from certbot_safedeploy.fleet.db import roles as pgroles


def test_allow_disallow_and_list_through_the_cli(fleet):
    cfg = fleet.server_config("web1")
    r = fleet.cli(cfg, "allow", "web1", "-d", "WWW.Example.com", "-d", "*.example.com")
    assert r.returncode == 0 and "may now hold www.example.com, *.example.com" in r.stdout
    assert fleet.cli(cfg, "allowed").stdout == "web1: *.example.com www.example.com\n"
    r = fleet.cli(cfg, "allow", "web1", "-d", "bad name!")
    assert r.returncode != 0 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = fleet.cli(cfg, "disallow", "web1", "-d", "*.example.com", "-d", "nope.example.com")
    assert r.returncode == 0 and "no longer hold *.example.com (was not allowed: nope.example.com)" in r.stdout
    assert fleet.cli(cfg, "allowed", "web1").stdout == "web1: www.example.com\n"


def test_forget_and_grant_on_sqlite(fleet):
    cfg = fleet.server_config("web1")
    fleet.allow(cfg, "web1", "www.example.com")
    assert fleet.cli(cfg, "enroll", "site", "-d", "www.example.com").returncode == 0
    r = fleet.cli(cfg, "forget", "site")
    assert r.returncode == 0 and "forgot 'site'" in r.stdout
    assert fleet.cli(cfg, "forget", "site").returncode == 1
    r = fleet.cli(cfg, "pull")  # the server is told, in one line
    assert r.returncode == 1 and "the store has no row" in r.stderr
    secret = fleet.root / "pw"
    secret.write_text("x" * 20)
    secret.chmod(0o600)
    r = fleet.cli(cfg, "grant", "web1", "--password-file", str(secret))
    assert r.returncode == 1 and "roles exist only on PostgreSQL" in r.stderr and "Traceback" not in r.stderr


def test_the_scram_verifier_is_what_postgresql_would_store():
    salt = b"0123456789abcdef"
    text = pgroles.scram_verifier("pencil-pencil-pencil", salt=salt)
    head, keys = text.split("$", 1)[1].split("$")
    iterations, salt64 = head.split(":")
    stored, server = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil-pencil-pencil", salt, 4096)
    assert text.startswith("SCRAM-SHA-256$4096:") and base64.b64decode(salt64) == salt and iterations == "4096"
    assert stored == hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    assert server == hmac.new(salted, b"Server Key", "sha256").digest()
    assert "pencil" not in " ".join(pgroles.role_statements("web1", text, exists=False))
