import os
import stat

import pytest

from certbot_safedeploy.challenges.webroot import remove_tokens, write_token
from certbot_safedeploy.errors import ChallengeError

TOKEN = "6qguuwQSu743sTJPjmKHy3iFV2ywTJuu2vX-p3wkDjk"


def test_token_is_readable_by_the_web_server_and_cleanup_is_exact(tmp_path):
    webroot = tmp_path / "www"
    webroot.mkdir()
    os.chown(webroot, 33, 33)  # www-data
    created = write_token(str(webroot), TOKEN, TOKEN + ".thumb")
    path = webroot / ".well-known" / "acme-challenge" / TOKEN
    assert path.read_text() == TOKEN + ".thumb"
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o644 and (st.st_uid, st.st_gid) == (33, 33)
    for d in (webroot / ".well-known", webroot / ".well-known" / "acme-challenge"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o755 and d.stat().st_uid == 33
    assert remove_tokens([created]) == []
    assert list(webroot.iterdir()) == []


def test_cleanup_keeps_directories_and_files_it_did_not_create(tmp_path):
    keep = tmp_path / ".well-known" / "acme-challenge" / "admin-file"
    keep.parent.mkdir(parents=True)
    keep.write_text("x")
    remove_tokens([write_token(str(tmp_path), TOKEN, "v")])
    assert keep.exists() and not (keep.parent / TOKEN).exists()


def test_planted_symlink_is_refused(tmp_path):
    target = tmp_path / "etc"
    target.mkdir()
    webroot = tmp_path / "www"
    webroot.mkdir()
    link = webroot / ".well-known"
    link.symlink_to(target)
    os.lchown(link, 33, 33)
    with pytest.raises(ChallengeError, match="symlink owned by another user"):
        write_token(str(webroot), TOKEN, "v")
    assert list(target.iterdir()) == []


def test_hostile_token_never_touches_the_disk(tmp_path):
    with pytest.raises(ChallengeError):
        write_token(str(tmp_path), "../../x", "v")
    assert list(tmp_path.iterdir()) == []


def test_names_sharing_one_webroot_leave_no_directory_whatever_the_order(tmp_path):
    """The first token creates .well-known/acme-challenge; the second only a file in it."""
    tokens = [TOKEN, TOKEN[::-1], "other-token"]
    created = [write_token(str(tmp_path), t, "v") for t in tokens]
    assert created[0].created_dirs and not created[1].created_dirs
    assert remove_tokens(created) == []
    assert list(tmp_path.iterdir()) == []
