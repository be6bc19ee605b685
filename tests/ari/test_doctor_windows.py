"""doctor --live shows each lineage's ARI window; a started window nothing renews is an error."""

import datetime
import os

from certbot_safedeploy.ari.certid import cert_id
from certbot_safedeploy.doctor.ariwindows import ari_findings
from tests.ari.ariserver import Reply, window_body
from tests.ari.test_command import lineage

NOW = datetime.datetime.now(datetime.timezone.utc)
H = datetime.timedelta(hours=1)


def findings(tmp_path, client, root=None):
    return {f.message.split(":")[0]: f for f in ari_findings(str(tmp_path / "le"), str(tmp_path / "state"),
                                                             str(root or tmp_path / "root"), client=client)}


def test_windows_chosen_times_and_explanations(tmp_path, server, client, leaf, ca):
    cfg = tmp_path / "le"
    later, started, modern = leaf("later.example"), leaf("started.example"), leaf("modern.example")
    lineage(cfg, "later.example", later, ca, server.directory)
    lineage(cfg, "started.example", started, ca, server.directory)
    lineage(cfg, "modern.example", modern, ca, server.directory, version="4.2.0")
    server.routes[server.info_path(cert_id(later.cert))] = Reply(
        200, window_body(NOW + 48 * H, NOW + 72 * H, "https://ca.example/why"))
    for c in (started, modern):
        server.routes[server.info_path(cert_id(c.cert))] = Reply(200, window_body(NOW - 5 * H, NOW - 4 * H))
    got = findings(tmp_path, client)
    assert got["later.example"].severity.value == "ok"
    assert "chosen time" in got["later.example"].message and "https://ca.example/why" in got["later.example"].message
    assert got["started.example"].severity.value == "error"
    assert "nothing renews this certificate" in got["started.example"].message
    assert "systemctl enable --now certbot-safedeploy-ari.timer" in got["started.example"].line()
    assert got["modern.example"].severity.value == "warning"
    assert not os.path.exists(tmp_path / "state")  # doctor writes nothing

    wants = tmp_path / "root" / "etc" / "systemd" / "system" / "timers.target.wants"
    wants.mkdir(parents=True)
    (wants / "certbot-safedeploy-ari.timer").symlink_to("/etc/systemd/system/certbot-safedeploy-ari.timer")
    again = findings(tmp_path, client)
    assert again["started.example"].severity.value == "warning"
    assert "certbot-safedeploy-ari.timer renews it" in again["started.example"].message
