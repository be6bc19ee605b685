import json

from certbot_safedeploy.report.status import render_prometheus


def test_status_file_and_prometheus_textfile(bed, tmp_path):
    prom = tmp_path / "textfile" / "safedeploy.prom"
    prom.parent.mkdir()
    bed.write_config(top=f'[status]\nprometheus = "{prom}"\n')
    assert bed.run().returncode == 0
    status = json.loads((bed.root / "state" / "status.json").read_text())
    assert status["lineages"]["example.com"]["last_outcome"] == "deployed"
    assert status["targets"]["web"]["last_status"] == 0 and "served_not_after" in status["targets"]["haproxy"]
    text = prom.read_text()
    assert 'certbot_safedeploy_cert_expiry_timestamp_seconds{lineage="example.com"}' in text
    assert 'certbot_safedeploy_last_deploy_success_timestamp_seconds{target="web"}' in text
    assert 'certbot_safedeploy_last_deploy_status{target="haproxy"} 0' in text
    # a refused deploy: status 1, the last success timestamp stays
    bed.issue()
    (bed.letsencrypt / "archive" / "example.com" / f"privkey{bed.generation}.pem").write_bytes(b"")
    assert bed.run().returncode == 1
    assert 'certbot_safedeploy_last_deploy_status{target="web"} 1' in prom.read_text()
    assert 'last_deploy_success_timestamp_seconds{target="web"}' in prom.read_text()
    assert not [p for p in prom.parent.iterdir() if p.name.endswith(".tmp")]


def test_render_escapes_label_values():
    text = render_prometheus({"targets": {'we"b': {"last_status": 3}}})
    assert 'certbot_safedeploy_last_deploy_status{target="we\\"b"} 3' in text
