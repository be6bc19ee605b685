"""The boot step: `recover` completes or undoes interrupted installs; its systemd unit."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from certbot_safedeploy.deploy import bootunit
from certbot_safedeploy.fleet import units as fleet_units

from .conftest import served_set

REPO_UNITS = Path(__file__).resolve().parents[2] / "systemd"


def recover(bed, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "recover", "--config", str(bed.config),
                           *extra], capture_output=True, text=True, timeout=60)


def test_nothing_to_recover(bed):
    proc = recover(bed)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"no interrupted install in {bed.root / 'state'}: nothing to do"


@pytest.mark.parametrize("step,outcome", [("renamed:{dest}/site.crt", "new"), ("journal", "new"),
                                          ("backup:{dest}/site.key", "old")])
def test_recover_makes_an_interrupted_set_whole(bed, step, outcome):
    assert bed.run().returncode == 0
    old = served_set(bed)
    new = bed.issue()
    proc = bed.run(env={"SAFEDEPLOY_TEST_KILL_AT": step.format(dest=bed.dest)})
    assert proc.returncode == -9
    proc = recover(bed)
    assert proc.returncode == 0, proc.stderr
    if outcome == "new":
        assert proc.stdout.startswith("example.com: recovered an interrupted install of 3 file(s) from ")
        assert served_set(bed) == new.cert.serial_number
    else:  # killed before the journal: nothing live changed
        assert "nothing to do" in proc.stdout
        assert served_set(bed) == old
    assert recover(bed).stdout.strip().endswith("nothing to do")  # the journal is gone


@pytest.mark.parametrize("body", ['{"direction": "sideways", "entries": []}', "[1, 2]", "{not json",
                                  '{"direction": "forward", "entries": [{"dest": "relative"}]}',
                                  '{"direction": "back", "entries": [{"dest": "/x", "backup": 7}]}'])
def test_a_malformed_journal_is_one_line_not_a_traceback(bed, body):
    journal = bed.root / "state" / "journal"
    journal.mkdir(parents=True)
    (journal / "example.com.json").write_text(body)
    proc = recover(bed)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("error: example.com: ") and "journal" in lines[0]
    assert "fix: inspect the destinations by hand, then delete the journal" in lines[0]


def test_broken_config_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "recover", "--config",
                           str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "config file does not exist" in proc.stderr


def test_shipped_unit_is_the_rendered_template():
    assert (REPO_UNITS / bootunit.UNIT_NAME).read_text() == bootunit.render()
    shipped = sorted(p.name for p in REPO_UNITS.iterdir())
    from certbot_safedeploy.ari import timer as ari_units

    # nothing unrendered ships
    assert shipped == sorted([bootunit.UNIT_NAME, *fleet_units.TEMPLATES, *ari_units.TEMPLATES])


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).extend(value.split())
    return found


def test_printed_unit_runs_this_installation_and_is_ordered_before_services(bed, tmp_path):
    proc = recover(bed, "--print-unit")
    assert proc.returncode == 0, proc.stderr
    unit = tmp_path / bootunit.UNIT_NAME
    unit.write_text(proc.stdout)
    d = _directives(proc.stdout)
    assert shlex.split(" ".join(d["ExecStart"])) == [sys.executable, "-m", "certbot_safedeploy", "recover",
                                                     "--config", str(bed.config)]
    assert d["DefaultDependencies"] == ["no"] and d["Type"] == ["oneshot"]
    assert d["After"] == ["local-fs.target"] and d["WantedBy"] == ["sysinit.target"]
    # every unit with default dependencies is ordered after sysinit.target, so after this one
    assert {"sysinit.target", "nginx.service", "postfix.service", "dovecot.service", "slapd.service",
            "apache2.service", "haproxy.service"} <= set(d["Before"])
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run scripts/setup"
    check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr


def test_systemd_analyze_refuses_a_unit_ordered_into_a_cycle(tmp_path):
    """The ordering check above can fail: pulling nginx in and ordering after it is a cycle
    (nginx.service is after sysinit.target, which is after this unit)."""
    text = bootunit.render(f"{sys.executable} -m certbot_safedeploy", "/dev/null").replace(
        "After=local-fs.target", "After=local-fs.target nginx.service\nWants=nginx.service")
    unit = tmp_path / bootunit.UNIT_NAME
    unit.write_text(text)
    check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert "Found ordering cycle" in check.stderr and "nginx.service" in check.stderr, check.stderr


def test_recover_waits_for_a_running_deploy(bed, tmp_path):
    """The boot step takes the deploy lock like any deploy."""
    from certbot_safedeploy.deploy.lock import deploy_lock

    with deploy_lock(str(bed.root / "state"), "deploy example.com"):
        proc = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "recover", "--config", str(bed.config)],
                              capture_output=True, text=True, env=dict(os.environ, SAFEDEPLOY_LOCK_TIMEOUT="0.2"))
    assert proc.returncode == 1 and "still holds the deploy lock" in proc.stderr
