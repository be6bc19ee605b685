"""certbot authenticator ``safedeploy``: webroot http-01 and RFC 2136 dns-01.

Thin glue over :mod:`certbot_safedeploy.challenges`, in the style of
certbot-dns-rfc2136: the logic lives in solvers that the manual hooks share.
Only public certbot API is used (``certbot.interfaces``, ``certbot.plugins.common``,
``certbot.errors``, ``certbot.display.util``); it runs on certbot 1.21 to 5.x.

Every option is a scalar or a JSON string, so certbot saves it into
``renewal/<name>.conf`` and ``certbot renew`` repeats the same choices.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Callable, Iterable, List, Sequence, Type

from acme import challenges
from certbot import errors, interfaces
from certbot.display import util as display_util
from certbot.plugins import common
from dns.exception import DNSException

from certbot_safedeploy.challenges.dns01 import Dns01Solver, TxtRecord
from certbot_safedeploy.challenges.http01 import Http01Solver, HttpChallenge
from certbot_safedeploy.challenges.progress import Progress
from certbot_safedeploy.config.challenge_section import (
    DEFAULT_PROPAGATION_TIMEOUT,
    SELF_CHECK_MODES,
    UNREACHABLE_MODES,
    ChallengeSettings,
)
from certbot_safedeploy.config.load import check_key_paths, config_path, load_config, load_plugin_config
from certbot_safedeploy.syntax.acme_values import parse_webroot_map
from certbot_safedeploy.challenges.webroot import CreatedToken
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.report.notify import NotifySettings

logger = logging.getLogger(__name__)


def _identifier_value(achall: Any) -> str:
    """achall.identifier.value (certbot >= 5.3) or achall.domain (older)."""
    identifier = getattr(achall, "identifier", None)
    value = getattr(identifier, "value", None)
    return str(value) if value is not None else str(achall.domain)


_ERRORS = (SafeDeployError, DNSException, OSError)


def _one_line(exc: BaseException) -> str:
    """Our errors carry their fix; anything else from the DNS or the OS is named by type."""
    if isinstance(exc, SafeDeployError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


class Authenticator(common.Plugin, interfaces.Authenticator):
    """Webroot http-01 and RFC 2136 dns-01 that check their own work."""

    description = ("Answer http-01 through a webroot and dns-01 through RFC 2136 (TSIG), "
                   "checking each before the CA validates")

    @classmethod
    def add_parser_arguments(cls, add: Callable[..., None]) -> None:
        add("config", default=None,
            help="safedeploy TOML config whose [challenge] table (zones, keys, resolver) the plugin uses; "
                 "the options below override it")
        add("resolver", default=None,
            help="recursive resolver HOST[:PORT] that follows _acme-challenge CNAMEs (default: the system's)")
        add("webroot", default=None, help="webroot for names without an entry in the webroot map")
        add("webroot-map", default="", help='JSON: {"example.com,www.example.com": "/var/www/html"}')
        add("http-port", type=int, default=80, help="port the self-check fetches tokens from (the CA uses 80)")
        add("self-check", default="warn", choices=SELF_CHECK_MODES,
            help="http-01 self-check: warn on unreachable (default), strict, or off")
        add("self-check-address", default=None,
            help="connect the http-01 self-check to this address (e.g. 127.0.0.1) with the right Host header")
        add("nsupdate-server", default=None, help="RFC 2136 server for dns-01, HOST[:PORT]")
        add("tsig-key", default=None, help="BIND key file (tsig-keygen output)")
        add("dns-port", type=int, default=None,
            help="DNS port for updates and for the authoritative checks (default 53)")
        add("propagation-timeout", type=int, default=int(DEFAULT_PROPAGATION_TIMEOUT),
            help="seconds to wait until every authoritative server serves the TXT record")
        add("unreachable-ns", default="fail", choices=UNREACHABLE_MODES,
            help="an authoritative server this host cannot reach: fail (default) or warn")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings: ChallengeSettings | None = None
        self._tokens: List[CreatedToken] = []
        self._records: List[TxtRecord] = []
        self._notify_settings: NotifySettings | None = None  # the config's [notify], once read

    # -- certbot interface -------------------------------------------------
    def more_info(self) -> str:
        return ("Writes http-01 tokens into a webroot and fetches them over HTTP before the CA does; "
                "publishes dns-01 TXT records with TSIG-signed RFC 2136 updates (following "
                "_acme-challenge CNAMEs) and waits until every authoritative nameserver serves them. "
                "Wildcards and names without a webroot use dns-01.")

    def auth_hint(self, failed_achalls: Iterable[Any]) -> str:
        return ("The safedeploy plugin checked the challenge itself before asking the CA. If the CA "
                "still failed, check that the names resolve to this server (http-01) or that the "
                "CA's resolvers see the same authoritative servers as this host (dns-01).")

    def prepare(self) -> None:
        self._settings = self._build_settings()

    def get_chall_pref(self, identifier: Any) -> Iterable[Type[challenges.Challenge]]:
        settings = self._require_settings()
        name = str(getattr(identifier, "value", identifier))
        kinds = {"http-01": challenges.HTTP01, "dns-01": challenges.DNS01}
        methods = settings.methods_for(name)
        if not methods:
            raise errors.PluginError(
                f"safedeploy: no way to validate {name}: it has no webroot "
                f"({'wildcards need dns-01' if name.startswith('*.') else 'add --safedeploy-webroot-map'}) "
                "and no dns-01 server is set (--safedeploy-nsupdate-server, or [[challenge.zone]] entries "
                "in --safedeploy-config)")
        return [kinds[m] for m in methods]

    def perform(self, achalls: List[Any]) -> List[Any]:
        settings = self._require_settings()
        http = [a for a in achalls if isinstance(a.chall, challenges.HTTP01)]
        dns = [a for a in achalls if isinstance(a.chall, challenges.DNS01)]
        try:
            if http:
                solver = Http01Solver(settings, warn=self._warn)
                self._tokens += solver.perform([
                    HttpChallenge(_identifier_value(a), a.chall.encode("token"),
                                  a.validation(a.account_key)) for a in http])
            if dns:
                dns_solver = Dns01Solver(settings, warn=self._warn, progress=self._progress())
                pairs = [(a.validation_domain_name(_identifier_value(a)), a.validation(a.account_key))
                         for a in dns]
                self._records += dns_solver.perform(pairs)
        except _ERRORS as exc:
            text = _one_line(exc)
            self._notify(", ".join(sorted({_identifier_value(a) for a in achalls})), text)
            raise errors.PluginError(f"safedeploy: {text}") from None
        return [a.response(a.account_key) for a in achalls]

    def cleanup(self, achalls: List[Any]) -> None:
        Http01Solver.cleanup(self._tokens)
        self._tokens = []
        if self._records:
            records, self._records = self._records, []
            try:
                Dns01Solver(self._require_settings(), warn=self._warn).remove(records)
            except _ERRORS as exc:
                raise errors.PluginError(f"safedeploy: {_one_line(exc)}") from None

    # -- helpers -----------------------------------------------------------
    def _notify(self, subject: str, message: str) -> None:
        """Report through the [notify] channels of the safedeploy config, if there is one."""
        import os

        from certbot_safedeploy.report.notify import notify_failure

        settings = self._notify_settings
        path = config_path(self.conf("config"))
        if settings is None and os.path.exists(path):  # no --safedeploy-config: the hooks' config, if any
            try:
                settings = load_config(path, sections=("notify",)).notify
            except (SafeDeployError, OSError) as exc:  # the config itself may be what failed: syslog only
                logger.warning("safedeploy: cannot read [notify] from %s: %s", path, exc)
        notify_failure("plugin", subject, message, settings=settings)

    def _warn(self, message: str) -> None:
        logger.warning("safedeploy: %s", message)
        display_util.notify(f"Warning (safedeploy): {message}")

    def _require_settings(self) -> ChallengeSettings:
        if self._settings is None:
            self._settings = self._build_settings()
        return self._settings

    def _overrides(self) -> dict[str, Any]:
        """Options the user set (they differ from the defaults), as [challenge] keys."""
        out: dict[str, Any] = {}
        for option, default in _OPTION_DEFAULTS.items():
            value = self.conf(option)
            if value is None or value == default or str(value) == str(default):
                continue
            key = option.replace("-", "_")
            if option == "webroot-map":
                value = parse_webroot_map(value)
            elif option in ("http-port", "dns-port"):
                value = int(value)
            elif option == "propagation-timeout":
                value = float(value)
            out[key] = value
        return out

    def _build_settings(self) -> ChallengeSettings:
        try:
            overrides = self._overrides()
            path = self.conf("config")
            if path:
                settings, config = load_plugin_config(path, overrides)
                self._notify_settings = config.notify
            else:
                settings = ChallengeSettings(**overrides)
                check_key_paths(settings)
        except SafeDeployError as exc:
            raise errors.MisconfigurationError(f"safedeploy: {exc}") from None
        if not settings.webroot and not settings.webroot_map and not settings.dns_enabled:
            raise errors.MisconfigurationError(
                "safedeploy: give --safedeploy-webroot / --safedeploy-webroot-map (http-01) "
                "and/or --safedeploy-nsupdate-server with --safedeploy-tsig-key or --safedeploy-config "
                "with [[challenge.zone]] entries (dns-01)")
        if settings.dns_enabled:
            try:
                from certbot_safedeploy.challenges.dns01 import load_tsig_key

                for key in settings.key_paths():
                    load_tsig_key(key, self._warn)
            except SafeDeployError as exc:
                raise errors.MisconfigurationError(f"safedeploy: {exc}") from None
        return settings

    def _progress(self) -> Progress:
        """Start and end lines on the display and in the log, a log line every 10 s, and
        live lines per lagging server when stderr is a terminal."""
        def emit(message: str) -> None:
            logger.info("safedeploy: %s", message)
            display_util.notify(f"safedeploy: {message}")

        live = sys.stderr if sys.stderr.isatty() else None
        return Progress(emit, log=lambda message: logger.info("safedeploy: %s", message), live=live)


_OPTION_DEFAULTS: dict[str, Any] = {
    "webroot": None, "webroot-map": "", "http-port": 80, "self-check": "warn", "self-check-address": None,
    "nsupdate-server": None, "tsig-key": None, "dns-port": None,
    "propagation-timeout": int(DEFAULT_PROPAGATION_TIMEOUT), "unreachable-ns": "fail", "resolver": None,
}
