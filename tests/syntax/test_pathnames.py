"""syntax/pathnames.py: the paths Linux accepts, judged before anything touches them."""

import errno
import os

import pytest

from certbot_safedeploy.syntax.pathnames import NAME_MAX, PATH_MAX, path_problem


@pytest.mark.parametrize("text", ["/etc/nginx/tls/site.crt", "/x/" + "n" * NAME_MAX,
                                  "/" + "/".join(["d" * 200] * 20)[: PATH_MAX - 2], "/é" * 100])
def test_usable_paths_pass(text):
    assert path_problem(text) is None


@pytest.mark.parametrize("text,words", [
    ("", "empty"), ("/etc/\x00x", "NUL"), ("etc/x", "not a normalized absolute path"),
    ("/etc/../x", "normalized"), ("/etc//x", "normalized"),
    ("/x/" + "n" * (NAME_MAX + 1), "256 bytes"), ("/x/" + "é" * 128, "256 bytes"),
    ("/" + "/".join(["d" * 200] * 21), "(PATH_MAX)"),
])
def test_unusable_paths_are_named(text, words):
    assert words in (path_problem(text) or "")


def test_unnormalized_paths_pass_when_allowed():
    assert path_problem("/var//www/", normalized=False) is None
    assert path_problem("/var/" + "w" * 300, normalized=False)
    assert path_problem("var/www", normalized=False) == "must be an absolute path"


def test_the_limits_are_the_kernels(tmp_path):
    """What path_problem refuses, the kernel refuses too (and what it passes, the kernel takes)."""
    ok = tmp_path / ("n" * NAME_MAX)
    ok.mkdir()
    assert path_problem(str(ok)) is None
    too_long = str(tmp_path / ("n" * (NAME_MAX + 1)))
    assert path_problem(too_long)
    with pytest.raises(OSError) as info:
        os.mkdir(too_long)
    assert info.value.errno == errno.ENAMETOOLONG
