"""``uses`` and ``key_types`` on a target: defaults, values, and errors with file and line."""

import pytest

from certbot_safedeploy.config.load import parse_config
from certbot_safedeploy.errors import ConfigError

BASE = """\
[[target]]
name = "web"
lineage = "example.com"
files = [ {{ path = "/etc/nginx/tls/site.crt", content = ["fullchain"] }} ]
{extra}
"""


def test_defaults_are_server_and_any_key():
    target = parse_config(BASE.format(extra=""), "s.toml").targets[0]
    assert target.uses == ("server",) and target.key_types == ()


def test_client_use_and_key_types_parse():
    target = parse_config(BASE.format(extra='uses = ["server", "client"]\nkey_types = ["rsa"]'),
                          "s.toml").targets[0]
    assert target.uses == ("server", "client") and target.key_types == ("rsa",)


@pytest.mark.parametrize("extra, words", [
    ('uses = ["server", "mtls"]', "s.toml:5: target[0].uses[1]: unknown value 'mtls' (fix: use server, client)"),
    ('uses = []', "s.toml:5: target[0].uses: must not be empty"),
    ('uses = "client"', "target[0].uses: must be a list of strings"),
    ('key_types = ["dsa"]', "s.toml:5: target[0].key_types[0]: unknown value 'dsa'"),
    ('key_types = ["rsa", "rsa"]', "target[0].key_types: a value is listed twice"),
])
def test_bad_values_name_file_line_and_fix(extra, words):
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.format(extra=extra), "s.toml")
    assert words in str(info.value)
