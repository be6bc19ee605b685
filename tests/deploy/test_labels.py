"""SELinux (docs/install-platforms.rst): every file a deploy writes is born in its destination's
directory, so it gets that directory's label, and the rename that publishes it never moves it
between directories (a rename keeps an inode's label; a file made in /tmp or the state dir and
moved in would keep the wrong one).

There is no SELinux kernel here, so the tests check the part that is ours: a real deploy runs in a
subprocess under a Python audit hook (PEP 578) that only records every file creation, rename and
link it makes; nothing is replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from certbot_safedeploy.deploy import pipeline
from certbot_safedeploy.system import fsutil

# runs `certbot-safedeploy deploy` with an audit hook writing one line per event to the log
_OBSERVED = r"""
import os, runpy, sys
log = os.open(sys.argv.pop(1), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
def path(value):
    return os.path.abspath(os.fsdecode(value)) if isinstance(value, (str, bytes, os.PathLike)) else None
def hook(event, args):
    line = None
    if event == "open" and isinstance(args[2], int) and args[2] & os.O_CREAT and path(args[0]):
        line = "create\t" + path(args[0])
    elif event == "open" and isinstance(args[1], str) and set(args[1]) & set("wax") and path(args[0]):
        line = "create\t" + path(args[0])
    elif event in ("os.rename", "os.replace", "os.link") and path(args[0]) and path(args[1]):
        line = event[3:] + "\t" + path(args[0]) + "\t" + path(args[1])
    elif event == "os.mkdir" and path(args[0]):
        line = "mkdir\t" + path(args[0])
    if line:
        os.write(log, (line + "\n").encode())
sys.addaudithook(hook)
sys.argv = ["certbot-safedeploy", "deploy"]
runpy.run_module("certbot_safedeploy", run_name="__main__", alter_sys=True)
"""


def observed_deploy(bed, log: Path) -> tuple[int, list[list[str]]]:
    env = dict(os.environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com www.example.com",
               SAFEDEPLOY_CONFIG=str(bed.config))
    log.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", _OBSERVED, str(log)], env=env, capture_output=True, text=True,
                          timeout=120)
    events = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    return proc.returncode, events


def within(path: str, directory: Path) -> bool:
    return os.path.commonpath([path, str(directory)]) == str(directory)


def assert_born_in_place(events: list[list[str]], dest: Path) -> None:
    """Whatever lands in ``dest`` was created there: every rename into it starts in the same
    directory, every link into it comes from its own backup directory."""
    arrivals = [e for e in events if e[0] in ("rename", "replace", "link") and within(e[2], dest)]
    assert arrivals, events
    for kind, source, target in arrivals:
        if kind == "link":  # a restore: the backup is a hard link of the file once published here
            assert within(source, dest), (kind, source, target)
        else:
            assert os.path.dirname(source) == os.path.dirname(target), (kind, source, target)
    # the files renamed in are ones this deploy created in place, or links to the backups
    made_here = {e[1] for e in events if e[0] == "create"} | {e[2] for e in events if e[0] == "link"}
    assert {e[1] for e in arrivals if e[0] != "link"} <= made_here


def test_stage_file_creates_its_file_beside_the_destination(tmp_path):
    dest = tmp_path / "tls" / "site.key"
    dest.parent.mkdir()
    staged = fsutil.stage_file(str(dest), b"key", fsutil.FileSpec(mode=0o600))
    assert os.path.dirname(staged) == str(dest.parent)
    inode = os.stat(staged).st_ino
    fsutil.commit_file(staged, str(dest))
    assert dest.stat().st_ino == inode  # the rename published the very inode born in the directory


def test_first_deploy_and_renewal_write_only_in_the_destination_directory(bed, tmp_path):
    code, events = observed_deploy(bed, tmp_path / "events")
    assert code == pipeline.DEPLOYED, events
    assert_born_in_place(events, bed.dest)
    bed.issue()
    code, events = observed_deploy(bed, tmp_path / "events")
    assert code == pipeline.DEPLOYED, events
    assert_born_in_place(events, bed.dest)
    # the backups of the replaced files are hard links inside the destination directory
    backups = [e for e in events if e[0] == "link" and ".safedeploy-backup" in e[2]]
    assert backups and all(os.path.dirname(source) == str(bed.dest) for _, source, _ in backups)


def test_a_rollback_restores_from_inside_the_destination_directory(bed, tmp_path):
    assert observed_deploy(bed, tmp_path / "events")[0] == pipeline.DEPLOYED
    before = bed.snapshot()
    bed.write_config('check = ["false"]')
    bed.issue()
    code, events = observed_deploy(bed, tmp_path / "events")
    assert code == pipeline.ROLLED_BACK, events
    assert bed.snapshot() == before
    assert any(e[0] == "link" for e in events), events
    assert_born_in_place(events, bed.dest)
