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
from typing import Any, Callable, Iterable, List, Sequence, Type

from acme import challenges
from certbot import errors, interfaces
from certbot.display import util as display_util
from certbot.plugins import common

from .challenges.dns01 import Dns01Solver, TxtRecord
from .challenges.http01 import Http01Solver, HttpChallenge
from .challenges.settings import (
    DEFAULT_PROPAGATION_TIMEOUT,
    SELF_CHECK_MODES,
    UNREACHABLE_MODES,
    ChallengeSettings,
)
from .challenges.validate import parse_webroot_map
from .challenges.webroot import CreatedToken
from .errors import SafeDeployError

logger = logging.getLogger(__name__)


def _identifier_value(achall: Any) -> str:
    """achall.identifier.value (certbot >= 5.3) or achall.domain (older)."""
    identifier = getattr(achall, "identifier", None)
    value = getattr(identifier, "value", None)
    return str(value) if value is not None else str(achall.domain)


class Authenticator(common.Plugin, interfaces.Authenticator):
    """Webroot http-01 and RFC 2136 dns-01 that check their own work."""

    description = ("Answer http-01 through a webroot and dns-01 through RFC 2136 (TSIG), "
                   "checking each before the CA validates")

    @classmethod
    def add_parser_arguments(cls, add: Callable[..., None]) -> None:
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
                "and no --safedeploy-nsupdate-server is set")
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
                dns_solver = Dns01Solver(settings, warn=self._warn)
                pairs = [(a.validation_domain_name(_identifier_value(a)), a.validation(a.account_key))
                         for a in dns]
                self._records += dns_solver.perform(pairs)
        except SafeDeployError as exc:
            self._notify(", ".join(sorted({_identifier_value(a) for a in achalls})), str(exc))
            raise errors.PluginError(f"safedeploy: {exc}") from None
        return [a.response(a.account_key) for a in achalls]

    def cleanup(self, achalls: List[Any]) -> None:
        Http01Solver.cleanup(self._tokens)
        self._tokens = []
        if self._records:
            records, self._records = self._records, []
            try:
                Dns01Solver(self._require_settings(), warn=self._warn).remove(records)
            except SafeDeployError as exc:
                raise errors.PluginError(f"safedeploy: {exc}") from None

    # -- helpers -----------------------------------------------------------
    @staticmethod
    def _notify(subject: str, message: str) -> None:
        """Report through the [notify] channels of the safedeploy config, if there is one."""
        import os

        from .config import DEFAULT_PATH
        from .notify import notify_failure

        notify_failure("plugin", subject, message, os.environ.get("SAFEDEPLOY_CONFIG") or DEFAULT_PATH)

    def _warn(self, message: str) -> None:
        logger.warning("safedeploy: %s", message)
        display_util.notify(f"Warning (safedeploy): {message}")

    def _require_settings(self) -> ChallengeSettings:
        if self._settings is None:
            self._settings = self._build_settings()
        return self._settings

    def _build_settings(self) -> ChallengeSettings:
        try:
            settings = ChallengeSettings(
                webroot=self.conf("webroot"),
                webroot_map=parse_webroot_map(self.conf("webroot-map") or ""),
                http_port=int(self.conf("http-port")),
                self_check=self.conf("self-check"),
                self_check_address=self.conf("self-check-address"),
                nsupdate_server=self.conf("nsupdate-server"),
                tsig_key=self.conf("tsig-key"),
                dns_port=int(self.conf("dns-port")) if self.conf("dns-port") else None,
                propagation_timeout=float(self.conf("propagation-timeout")),
                unreachable_ns=self.conf("unreachable-ns"),
            )
        except SafeDeployError as exc:
            raise errors.MisconfigurationError(f"safedeploy: {exc}") from None
        if not settings.webroot and not settings.webroot_map and not settings.nsupdate_server:
            raise errors.MisconfigurationError(
                "safedeploy: give --safedeploy-webroot / --safedeploy-webroot-map (http-01) "
                "and/or --safedeploy-nsupdate-server with --safedeploy-tsig-key (dns-01)")
        if settings.nsupdate_server and settings.tsig_key:
            try:
                from .challenges.dns01 import load_tsig_key

                load_tsig_key(settings.tsig_key, self._warn)
            except SafeDeployError as exc:
                raise errors.MisconfigurationError(f"safedeploy: {exc}") from None
        return settings
