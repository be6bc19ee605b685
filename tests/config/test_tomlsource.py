"""Key paths back to lines: what every config error message points at."""

from __future__ import annotations

from certbot_safedeploy.config.tomlsource import locate

TEXT = """\
trust_anchors = ["/etc/ssl/root.pem"]
backups = 2

[challenge]
resolver = "127.0.0.53"

[[challenge.zone]]
name = "a.example"

[[challenge.zone]]
name = "b.example"
dns_port = 5353

[[target]]
name = "web"
files = [
  { path = "/etc/nginx/tls/a.pem", content = ["fullchain"] },
  { path = "/etc/nginx/tls/a.key", content = ["privkey"], mode = "0644" },
]

[[target]]
name = "mail"
probe = { connect = "127.0.0.1:25", servername = "mx.example", starttls = "smtp" }

[fleet]
server = "web1"
"""


def test_top_level_keys():
    assert locate(TEXT, ["backups"]) == 2
    assert locate(TEXT, ["trust_anchors", 0]) == 1


def test_tables_and_arrays_of_tables_by_index():
    assert locate(TEXT, ["challenge", "resolver"]) == 5
    assert locate(TEXT, ["challenge", "zone", 1, "dns_port"]) == 12
    assert locate(TEXT, ["challenge", "zone", 0]) == 7
    assert locate(TEXT, ["target", 1, "name"]) == 22
    assert locate(TEXT, ["fleet", "server"]) == 26


def test_inline_tables_and_list_elements():
    assert locate(TEXT, ["target", 0, "files", 1, "mode"]) == 18
    assert locate(TEXT, ["target", 1, "probe", "starttls"]) == 23


def test_unknown_paths_point_at_the_nearest_line_or_none():
    assert locate(TEXT, ["target", 5, "name"]) == 21  # past the last [[target]]: the last one
    assert locate(TEXT, ["target", 0, "nosuchkey"]) == 14  # the table's header
    assert locate("", ["anything"]) is None
