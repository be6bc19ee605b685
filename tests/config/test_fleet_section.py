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
    assert s.limits == {"enrollments": 100, "names_per_csr": 100, "csr_bytes": 16384, "report_bytes": 4096}
    assert s.lock_timeout == 5 and s.max_connections_per_server == 4 and s.approve_key_changes is False


def test_per_server_limits_and_approve_key_changes():
    s = settings_from_table({"max_enrollments_per_server": 7, "max_csr_bytes": 4096, "approve_key_changes": True,
                             "max_connections_per_server": 2, "lock_timeout": 1.5}, "/x")
    assert s.limits["enrollments"] == 7 and s.limits["csr_bytes"] == 4096
    assert s.approve_key_changes and s.max_connections_per_server == 2 and s.lock_timeout == 1.5


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
    ({"approve_key_changes": "yes"}, "approve_key_changes"),
    ({"max_enrollments_per_server": 0}, "max_enrollments_per_server"),
    ({"max_report_bytes": 100}, "max_report_bytes"),
    ({"lock_timeout": 0}, "lock_timeout"),
    ({"max_connections_per_server": -1}, "max_connections_per_server"),
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
