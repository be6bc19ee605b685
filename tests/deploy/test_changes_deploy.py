"""The change gate through ``deploy`` and the certbot deploy hook, on both verify engines."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certbot_safedeploy.deploy import pipeline
from tests.pki import DAY, NOW, write_lineage

REPO = Path(__file__).resolve().parents[2]
BOTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
STAPLE = x509.TLSFeature([x509.TLSFeatureType.status_request])


@pytest.fixture(params=["library", "builtin"])
def engine_env(request):
    from certbot_safedeploy.verify import library

    if request.param == "library" and not library.AVAILABLE:
        pytest.skip("this cryptography has no x509.verification")
    return {"SAFEDEPLOY_VERIFY_ENGINE": request.param}


def deployed_first(bed, engine_env, **issue):
    bed.issue(**issue)
    proc = bed.run(env=engine_env)
    assert proc.returncode == 0, proc.stderr
    return bed.snapshot()


def test_unchanged_renewal_prints_no_block_and_deploys(bed, engine_env):
    deployed_first(bed, engine_env)
    bed.issue()
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert "changes from the deployed certificate" not in proc.stdout + proc.stderr


def test_client_use_losing_client_auth_is_refused_and_old_files_stay(bed, engine_env):
    bed.write_config('uses = ["server", "client"]')
    before = deployed_first(bed, engine_env, extensions=[(BOTH, False)])
    bed.issue()  # serverAuth only, like Let's Encrypt classic since 2026-02-11
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.REFUSED, proc.stdout
    assert "[web, haproxy] extended key usage: serverAuth, clientAuth -> serverAuth" in proc.stderr
    assert "ERROR: " in proc.stderr and "client-auth" in proc.stderr and "more days" in proc.stderr
    assert "nothing was touched" in proc.stderr
    assert bed.snapshot() == before


def test_the_deploy_hook_refuses_the_same(bed, engine_env):
    bed.write_config('uses = ["server", "client"]')
    before = deployed_first(bed, engine_env, extensions=[(BOTH, False)])
    bed.issue()
    env = dict(os.environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com www.example.com",
               SAFEDEPLOY_CONFIG=str(bed.config), SAFEDEPLOY_PYTHONPATH=str(REPO), **engine_env)
    proc = subprocess.run([sys.executable, str(REPO / "hooks" / "deploy")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == pipeline.REFUSED and "clientAuth" in proc.stderr
    assert bed.snapshot() == before


def test_key_types_refuses_an_ecdsa_renewal_of_an_rsa_target(bed, engine_env):
    bed.write_config('key_types = ["rsa"]')
    before = deployed_first(bed, engine_env, key_kind="rsa")
    bed.issue(key_kind="ec")
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.REFUSED
    assert "] key: RSA 2048 -> ECDSA P-256" in proc.stderr and "key_types = ['rsa']" in proc.stderr
    assert bed.snapshot() == before
    bed.issue(key_kind="rsa")
    assert bed.run(env=engine_env).returncode == pipeline.DEPLOYED


def test_key_change_without_key_types_warns_and_deploys(bed, engine_env):
    deployed_first(bed, engine_env, key_kind="rsa")
    bed.issue(key_kind="ec")
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert "WARNING: " in proc.stdout and "key-type" in proc.stdout


def test_must_staple_without_ocsp_url_is_refused(bed, engine_env):
    bed.issue(extensions=[(STAPLE, False)])
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.REFUSED and "must-staple" in proc.stderr
    assert bed.snapshot() == {}


def nginx_target(bed, tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""events {{}}
http {{
  server {{
    listen 127.0.0.1:1;
    server_name example.com shop.example.com;
    ssl_certificate {bed.dest}/site.crt;
    ssl_certificate_key {bed.dest}/site.key;
    ssl_stapling on;
  }}
}}
""")
    bed.write_config(f'service = {{ name = "nginx", config = "{conf}" }}\ncheck = ["true"]\nreload = ["true"]\n'
                     "probe = false")
    return conf


def issue_names(bed, *names, **kw):
    bed.generation += 1
    leaf = bed.pki.leaf(*names, **kw)
    write_lineage(str(bed.letsencrypt), "example.com", leaf, [bed.pki.intermediate], version=bed.generation)


def test_a_name_nginx_serves_cannot_be_dropped(bed, engine_env, tmp_path):
    conf = nginx_target(bed, tmp_path)
    issue_names(bed, "example.com", "www.example.com", "shop.example.com")
    assert bed.run(env=engine_env).returncode == 0
    before = bed.snapshot()
    issue_names(bed, "example.com", "www.example.com")
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.REFUSED, proc.stdout
    assert f"drops shop.example.com, which nginx server_name ({conf}:5) still serves" in proc.stderr
    assert f"WARNING: {conf}:8: stapling:" in proc.stderr  # and the stapling that has nothing to staple
    assert bed.snapshot() == before


def test_status_file_and_textfile_carry_lifetime_days_left_and_renewal_time(bed, engine_env, tmp_path):
    status, prom = tmp_path / "status.json", tmp_path / "sd.prom"
    bed.write_config(top=f'[status]\nfile = "{status}"\nprometheus = "{prom}"\n')
    renewal = bed.letsencrypt / "renewal"
    renewal.mkdir()
    (renewal / "example.com.conf").write_text("version = 2.1.0\narchive_dir = x\n")
    bed.issue(start=NOW - DAY, end=NOW + 44 * DAY)  # a 45-day certificate
    assert bed.run(env=engine_env).returncode == 0
    entry = json.loads(status.read_text())["lineages"]["example.com"]
    assert entry["lifetime_days"] == pytest.approx(45, abs=0.01)
    assert entry["days_left"] == pytest.approx(44, abs=0.1)
    # certbot 2.1: 30 days before expiry, whatever the lifetime
    assert entry["renewal_epoch"] == pytest.approx((NOW + 14 * DAY).timestamp(), abs=5)
    text = prom.read_text()
    assert 'certbot_safedeploy_cert_lifetime_seconds{lineage="example.com"} 3888000' in text
    assert "certbot_safedeploy_cert_renewal_timestamp_seconds" in text
    assert "certbot_safedeploy_cert_days_left" in text


def test_a_hostile_deployed_file_is_compared_as_nothing_deployed(bed, engine_env):
    (bed.dest / "site.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n" * 3)
    bed.write_config('uses = ["server", "client"]')
    bed.issue(extensions=[(BOTH, False)])
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert "Traceback" not in proc.stderr
