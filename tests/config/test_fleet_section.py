import pytest

from certbot_safedeploy.config.load import parse_config
from certbot_safedeploy.errors import ConfigError
from certbot_safedeploy.config.fleet_section import FleetSettingsError, redact, settings_from_table


def test_defaults_and_a_path_store():
    s = settings_from_table({"server": "web1"}, "/var/lib/sd")
    assert s.store == "sqlite:////var/lib/sd/fleet.db"
    assert s.key_dir == "/var/lib/sd/fleet"
    assert s.certbot == ("certbot", "-a", "safedeploy")
    assert abs(s.renew_fraction - 1 / 3) < 1e-9 and s.max_failures_per_hour == 4


@pytest.mark.parametrize("table, key", [
    ({"store": "mysql://x/y"}, "store"),
    ({"store": "relative/fleet.db"}, "store"),
    ({"server": "web 1"}, "server"),
    ({"certbot": ["certbot", "--csr", "x"]}, "certbot"),
    ({"certbot": "certbot renew"}, "certbot"),
    ({"max_orders_per_3h": 1000}, "max_orders_per_3h"),
    ({"renew_fraction": True}, "renew_fraction"),
    ({"key_dir": "/var/../etc"}, "key_dir"),
    ({"color": "red"}, "color"),
])
def test_invalid_keys_are_named(table, key):
    with pytest.raises(FleetSettingsError) as info:
        settings_from_table(table, "/var/lib/sd")
    assert info.value.key == key


def test_config_reports_fleet_errors_with_line_and_key():
    text = 'state_dir = "/srv/sd"\n[fleet]\nserver = "ok"\nstore = "ftp://nope"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, "/etc/sd.toml")
    assert "/etc/sd.toml:4" in str(info.value) and "fleet.store" in str(info.value)


def test_a_certbot_argv_makes_the_config_run_commands():
    assert parse_config('[fleet]\ncertbot = ["/usr/bin/certbot"]\n').runs_commands
    assert not parse_config('[fleet]\nserver = "a"\n').runs_commands


def test_redact_hides_the_password():
    assert redact("postgresql+psycopg://fleet:s3cret@db/fleet") == "postgresql+psycopg://fleet:***@db/fleet"
