"""SIGKILL the deploy at every install step: old set or new set, never a mix.

POSIX has no multi-file rename, so a kill *between* two renames leaves a
journal; the next safedeploy run (any deploy) finishes the set before anything
else.  The test checks exactly that contract at every step.
"""

from certbot_safedeploy.deploy.installer import Installer
from tests.pki import write_lineage

from .conftest import served_set as _served_set


def _publish(bed, issued) -> None:
    bed.generation += 1
    write_lineage(str(bed.letsencrypt), "example.com", issued, [bed.pki.intermediate],
                  version=bed.generation)


def test_kill_at_every_step_then_next_run_completes(bed, tmp_path):
    old = bed.pki.leaf("example.com", "www.example.com")
    new = bed.pki.leaf("example.com", "www.example.com")
    _publish(bed, old)
    assert bed.run().returncode == 0
    _publish(bed, new)
    trace = tmp_path / "trace"
    assert bed.run(env={"SAFEDEPLOY_TEST_TRACE": str(trace)}).returncode == 0
    steps = trace.read_text().split()
    assert "journal" in steps
    assert sum(s.startswith("renamed:") for s in steps) == 3 and steps[-1] == "done"
    journal = bed.root / "state" / "journal" / "example.com.json"
    outcomes = {}
    for step in steps:
        _publish(bed, old)
        assert bed.run().returncode == 0 and _served_set(bed) == old.cert.serial_number
        _publish(bed, new)
        proc = bed.run(env={"SAFEDEPLOY_TEST_KILL_AT": step})
        assert proc.returncode == -9, (step, proc.stderr)
        if journal.exists():
            assert step.startswith(("journal", "renamed:")), step
            Installer(str(bed.root / "state"), "example.com", 2).recover()
        outcomes[step] = "new" if _served_set(bed) == new.cert.serial_number else "old"
        proc = bed.run()
        assert proc.returncode == 0, (step, proc.stderr)
        assert _served_set(bed) == new.cert.serial_number
        assert not [p.name for p in bed.dest.iterdir() if p.name.endswith(".tmp")]
    # before the journal: old set; from the journal on: new set
    assert [outcomes[s] for s in steps] == [
        "old" if steps.index(s) < steps.index("journal") else "new" for s in steps]


def test_next_deploy_recovers_an_interrupted_install_by_itself(bed):
    assert bed.run().returncode == 0
    old_serial = _served_set(bed)
    new = bed.pki.leaf("example.com", "www.example.com")
    _publish(bed, new)
    proc = bed.run(env={"SAFEDEPLOY_TEST_KILL_AT": f"renamed:{bed.dest}/site.crt"})
    assert proc.returncode == -9
    proc = bed.run()
    assert proc.returncode == 0, proc.stderr
    assert "recovered an interrupted install of 3 file(s)" in proc.stdout
    assert _served_set(bed) == new.cert.serial_number != old_serial
