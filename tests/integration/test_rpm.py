"""rpm/certbot-safedeploy.spec builds with rpmbuild (Debian's `rpm` package) into one noarch
package with the module, the command, the hooks and the units, requiring EPEL's certbot; rpmlint
(Debian's `rpmlint`, with rpm/certbot-safedeploy.rpmlintrc) finds nothing."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "rpm" / "certbot-safedeploy.spec"
VERSION = "0.1.0"

pytestmark = pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="rpmbuild missing (apt-get install rpm)")


def _source_tarball(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.split(b"\0")
    with tarfile.open(dest, "w:gz") as tar:
        for name in filter(None, (n.decode() for n in listed)):
            if (REPO / name).exists():
                tar.add(REPO / name, arcname=f"certbot-safedeploy-{VERSION}/{name}", recursive=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    top = tmp_path_factory.mktemp("rpmbuild")
    (top / "SOURCES").mkdir()
    _source_tarball(top / "SOURCES" / f"certbot-safedeploy-{VERSION}.tar.gz")
    # --nodeps: the BuildRequires name Fedora packages (python3-devel), not Debian's
    proc = subprocess.run(["rpmbuild", "-bb", "--nodeps", "--define", f"_topdir {top}", str(SPEC)],
                          capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(top)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [rpm] = list((top / "RPMS" / "noarch").glob("*.rpm"))
    return rpm


def _query(rpm: Path, *what: str) -> list[str]:
    return subprocess.run(["rpm", "-qp", *what, str(rpm)], capture_output=True, text=True, check=True,
                          timeout=60).stdout.splitlines()


def test_file_list(built):
    assert built.name == f"python3-certbot-safedeploy-{VERSION}-1.noarch.rpm"
    files = set(_query(built, "-l"))
    units = {f"/usr/lib/systemd/system/certbot-safedeploy-{u}" for u in
             ("fleet-pull.service", "fleet-pull.timer", "fleet-renew.service", "fleet-renew.timer", "recover.service")}
    hooks = {f"/usr/share/certbot-safedeploy/hooks/{h}" for h in ("deploy", "manual-auth", "manual-cleanup")}
    assert units | hooks | {"/usr/bin/certbot-safedeploy", "/usr/share/man/man1/certbot-safedeploy.1.gz"} <= files
    modules = {f for f in files if "/site-packages/certbot_safedeploy/" in f and f.endswith(".py")}
    expected = {str(p.relative_to(REPO)) for p in (REPO / "certbot_safedeploy").rglob("*.py")}
    assert {f.split("/site-packages/", 1)[1] for f in modules} == expected
    entry = next(f for f in files if f.endswith(".dist-info/entry_points.txt"))
    assert entry.startswith("/usr/lib/python3")
    assert not [f for f in files if f.startswith("/usr/local") or "/tests/" in f]


def test_requirements_and_scripts(built):
    requires = set(_query(built, "-R"))
    assert {"python3-certbot", "python3-cryptography", "python3-dns"} <= requires
    assert not [r for r in requires if "tomli" in r]  # Python 3.9 targets (EPEL 9) get it from the metadata only
    scripts = "\n".join(_query(built, "--scripts"))
    assert "systemctl enable" not in scripts and "systemctl start" not in scripts  # shipped disabled


def test_installed_files_name_the_system_paths(built, tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    cpio = subprocess.run(f"rpm2cpio {built} | cpio -idm --quiet", shell=True, cwd=out, capture_output=True, timeout=60)
    assert cpio.returncode == 0, cpio.stderr
    for hook in (out / "usr/share/certbot-safedeploy/hooks").iterdir():
        assert hook.read_text().splitlines()[0] == "#!/usr/bin/python3"
    for unit in (out / "usr/lib/systemd/system").glob("*.service"):
        assert "/usr/local/bin" not in unit.read_text()


@pytest.mark.skipif(shutil.which("rpmlint") is None, reason="rpmlint missing (apt-get install rpmlint)")
def test_rpmlint_is_clean(built):
    proc = subprocess.run(["rpmlint", "-r", str(REPO / "rpm" / "certbot-safedeploy.rpmlintrc"), str(SPEC), str(built)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "0 errors, 0 warnings" in proc.stdout, proc.stdout[-3000:]
