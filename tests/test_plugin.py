"""The certbot authenticator through certbot's own plugin interface, with no CA.

certbot builds the plugin's options with ``inject_parser_options``, finds it as an
ABC implementation through the ``certbot.plugins`` entry point, then calls
``prepare``, ``get_chall_pref``, ``perform`` and ``cleanup``.  This drives those
calls with a real webroot: the token file appears, holds the key authorization,
and goes away again.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import warnings

import pytest

certbot = pytest.importorskip("certbot")

import josepy as jose  # noqa: E402
from acme import challenges, messages  # noqa: E402
from certbot import achallenges, errors, interfaces  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from certbot_safedeploy.plugin import Authenticator  # noqa: E402

TOKEN = b"t" * 32


def _plugin(*argv: str) -> Authenticator:
    """The plugin as certbot makes it: its options injected into a parser, then the parsed namespace."""
    parser = argparse.ArgumentParser()
    Authenticator.inject_parser_options(parser, "safedeploy")
    return Authenticator(parser.parse_args(list(argv)), "safedeploy")


def _achall(domain: str, chall: challenges.Challenge) -> achallenges.KeyAuthorizationAnnotatedChallenge:
    key = jose.JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    challb = messages.ChallengeBody(chall=chall, uri="https://ca.invalid/chall/1", status=messages.STATUS_PENDING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return achallenges.KeyAuthorizationAnnotatedChallenge(challb=challb, domain=domain, account_key=key)


def test_certbot_finds_the_plugin_by_its_entry_point():
    eps = importlib.metadata.entry_points()
    group = eps.select(group="certbot.plugins") if hasattr(eps, "select") else eps.get("certbot.plugins", [])
    # Python 3.9 lists a distribution once per path entry that carries it (the checkout's
    # certbot_safedeploy.egg-info as well as the venv's dist-info): one entry point, maybe twice
    found = {(e.name, e.value): e for e in group if e.name == "safedeploy"}
    [ep] = found.values()
    assert ep.load() is Authenticator
    assert issubclass(Authenticator, interfaces.Authenticator) and issubclass(Authenticator, interfaces.Plugin)


def test_every_option_is_a_scalar_certbot_can_save():
    plugin = _plugin()
    for option in ("config", "webroot", "webroot-map", "http-port", "self-check", "nsupdate-server",
                   "tsig-key", "propagation-timeout", "resolver"):
        value = plugin.conf(option)
        assert value is None or isinstance(value, (str, int, float)), option


def test_prepare_refuses_a_plugin_with_no_way_to_validate():
    with pytest.raises(errors.MisconfigurationError, match="give --safedeploy-webroot"):
        _plugin().prepare()


def test_http01_perform_and_cleanup_in_a_real_webroot(tmp_path):
    webroot = tmp_path / "www"
    webroot.mkdir()
    plugin = _plugin("--safedeploy-webroot", str(webroot), "--safedeploy-self-check", "off")
    plugin.prepare()
    assert plugin.get_chall_pref("example.com") == [challenges.HTTP01]
    achall = _achall("example.com", challenges.HTTP01(token=TOKEN))
    [response] = plugin.perform([achall])
    assert isinstance(response, challenges.HTTP01Response)
    token_file = webroot / ".well-known" / "acme-challenge" / achall.chall.encode("token")
    assert token_file.read_text() == achall.validation(achall.account_key)
    plugin.cleanup([achall])
    assert not token_file.exists() and not (webroot / ".well-known").exists()


def test_a_wildcard_without_dns_is_a_plugin_error_naming_the_fix(tmp_path):
    plugin = _plugin("--safedeploy-webroot", str(tmp_path), "--safedeploy-self-check", "off")
    plugin.prepare()
    with pytest.raises(errors.PluginError, match="wildcards need dns-01"):
        plugin.get_chall_pref("*.example.com")


def test_the_config_file_is_read_for_challenge_only(tmp_path):
    """--safedeploy-config reads [challenge] and [notify]; a broken [fleet] is not the plugin's business."""
    webroot = tmp_path / "www"
    webroot.mkdir()
    config = tmp_path / "safedeploy.toml"
    config.write_text(f'[challenge]\nwebroot = "{webroot}"\nself_check = "off"\n[fleet]\nrenew_fraction = 7\n')
    config.chmod(0o600)
    plugin = _plugin("--safedeploy-config", str(config))
    plugin.prepare()
    assert plugin.get_chall_pref("example.com") == [challenges.HTTP01]
