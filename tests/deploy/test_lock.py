"""One deploy at a time: the state directory's flock, in one process and across real ones."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from certbot_safedeploy.deploy.lock import LOCK_NAME, LockError, deploy_lock

from .conftest import served_set


def test_second_holder_waits_then_refuses_naming_the_first(tmp_path):
    state = str(tmp_path / "state")
    with deploy_lock(state, "deploy example.com"):
        started = time.monotonic()
        with pytest.raises(LockError) as caught:
            with deploy_lock(state, "deploy other", timeout=0.3):
                pytest.fail("the lock was taken twice")
        assert time.monotonic() - started >= 0.3
    message = str(caught.value)
    assert f"pid {os.getpid()}, deploy example.com, since" in message
    assert "still holds the deploy lock after 0 s; nothing was touched" in message
    assert message.startswith(os.path.join(state, LOCK_NAME))
    with deploy_lock(state, "after", timeout=0):  # released with the block
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    state = tmp_path / "state"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from certbot_safedeploy.deploy.lock import deploy_lock\n"
                               "with deploy_lock(sys.argv[1], 'test'):\n"
                               "    print('held', flush=True); time.sleep(60)", str(state)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockError):
        with deploy_lock(str(state), "second", timeout=0.1):
            pass
    holder.kill()
    holder.wait()
    holder.stdout.close()
    with deploy_lock(str(state), "third", timeout=2):
        assert os.stat(state / LOCK_NAME).st_mode & 0o777 == 0o600


def test_a_state_dir_that_cannot_be_made_is_a_lock_error(tmp_path):
    """The boot step met ENAMETOOLONG here as a traceback (fuzz case cli-8888027760): a state
    directory the kernel refuses, or one under a regular file, is the lock's one-line error."""
    (tmp_path / "file").write_text("")
    for state in (tmp_path / "file" / "state", tmp_path / ("9" * 300)):
        with pytest.raises(LockError, match="cannot open the deploy lock"):
            with deploy_lock(str(state), "recover", timeout=0):
                pass


def test_a_symlinked_lock_file_is_refused(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / LOCK_NAME).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LockError, match="cannot open the deploy lock"):
        with deploy_lock(str(state), "x", timeout=0):
            pass
    assert not (tmp_path / "elsewhere").exists()


def _slow_reload(bed, log) -> Path:
    """A reload that logs its start, then holds (and so holds the deploy lock) until the
    test creates the returned release file, then logs its end."""
    release = log.with_name(log.name + ".release")
    release.touch()  # the first, preparatory deploy must not wait
    reload = ["sh", "-c", f"echo start $PPID >> {log}; i=0; while [ ! -e {release} ] && [ $i -lt 600 ]; "
              f"do sleep 0.05; i=$((i+1)); done; echo end $PPID >> {log}"]
    bed.write_config('reload = ["' + '", "'.join(reload) + '"]')
    return release


def test_two_deploys_of_one_lineage_never_interleave(bed, tmp_path):
    log = tmp_path / "reloads"
    release = _slow_reload(bed, log)
    assert bed.run().returncode == 0
    log.unlink()
    release.unlink()
    new = bed.issue()
    env = dict(os.environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com www.example.com",
               SAFEDEPLOY_CONFIG=str(bed.config))
    argv = [sys.executable, "-m", "certbot_safedeploy", "deploy"]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not log.exists():  # the first is inside its reload, holding the lock
        time.sleep(0.01)
    second = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threading.Timer(1.0, release.touch).start()  # the second is started (and soon blocked) by then
    outs = [p.communicate(timeout=60) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    assert "no file changed" not in outs[0][0]  # the first installed
    assert "every destination already holds this certificate: no file changed" in outs[1][0]
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert events == ["start", "end", "start", "end"]  # the second reload began after the first ended
    assert served_set(bed) == new.cert.serial_number


def test_second_deploy_refuses_after_the_lock_timeout(bed, tmp_path):
    log = tmp_path / "reloads"
    release = _slow_reload(bed, log)
    assert bed.run().returncode == 0
    before = bed.snapshot()
    log.unlink()
    release.unlink()
    bed.issue()
    env = dict(os.environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com www.example.com",
               SAFEDEPLOY_CONFIG=str(bed.config))
    first = subprocess.Popen([sys.executable, "-m", "certbot_safedeploy", "deploy"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not log.exists():
        time.sleep(0.01)
    proc = bed.run(env={"SAFEDEPLOY_LOCK_TIMEOUT": "0.2"})  # the first holds the lock until released
    release.touch()
    first.communicate(timeout=60)
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip().splitlines()[0]
    assert line.startswith("refused: ") and f"(pid {first.pid}, deploy example.com, since" in line
    assert "nothing was touched (fix: let it finish" in line
    assert first.returncode == 0
    assert bed.snapshot() != before  # the first one installed


def test_deploy_data_the_fleet_pull_entry_honours_the_lock(bed):
    """fleet pull installs through deploy_data: it waits for, then refuses beside, a running deploy."""
    from certbot_safedeploy.config.load import load_config
    from certbot_safedeploy.deploy.pipeline import REFUSED, deploy_data, lazy_lineage

    config = load_config(str(bed.config))
    before = bed.snapshot()
    bed.issue()
    with deploy_lock(config.state_dir, "deploy example.com"):
        result = deploy_data(config, "example.com", lazy_lineage(str(bed.live)), ["example.com"], lock_timeout=0.2)
    assert result.exit_code == REFUSED
    assert result.lines[-1].startswith("refused: ") and "still holds the deploy lock" in result.lines[-1]
    assert bed.snapshot() == before
