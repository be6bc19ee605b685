"""http-01 solver: write every token, then fetch each one as the CA will."""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Sequence

from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.challenges.httpcheck import check_served
from certbot_safedeploy.config.challenge_section import ChallengeSettings
from certbot_safedeploy.challenges.webroot import CreatedToken, remove_tokens, write_token

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class HttpChallenge:
    domain: str
    token: str
    key_authorization: str


class Http01Solver:
    def __init__(self, settings: ChallengeSettings, warn: Callable[[str], None] = log.warning) -> None:
        self.settings = settings
        self.warn = warn

    def perform(self, challenges: Sequence[HttpChallenge]) -> list[CreatedToken]:
        """Write and self-check all tokens; on failure remove them and raise."""
        created: list[CreatedToken] = []
        try:
            for ch in challenges:
                webroot = self.settings.webroot_for(ch.domain)
                if not webroot:
                    raise ChallengeError(f"no webroot for {ch.domain}",
                                         fix="add it to --safedeploy-webroot-map or use dns-01")
                created.append(write_token(webroot, ch.token, ch.key_authorization))
            if self.settings.self_check != "off":
                for ch in challenges:
                    self._self_check(ch)
        except BaseException:
            self.cleanup(created)
            raise
        return created

    def _self_check(self, ch: HttpChallenge) -> None:
        s = self.settings
        results = check_served(ch.domain, ch.token, ch.key_authorization, port=s.http_port,
                               address=s.self_check_address)
        webroot = s.webroot_for(ch.domain)
        for result in results:
            if result.ok:
                continue
            if result.definitive or s.self_check == "strict":
                raise ChallengeError(
                    f"http-01 self-check for {ch.domain} failed before asking the CA: {result.detail} "
                    f"(token written under webroot {webroot})",
                    fix=f"make the web server for {ch.domain} serve {webroot}/.well-known/acme-challenge/ "
                        "(nginx: a location or root for that path in the right server block)")
            self.warn(f"http-01 self-check for {ch.domain} was inconclusive ({result.detail}); "
                      "asking the CA anyway (use --safedeploy-self-check strict to stop here)")

    @staticmethod
    def cleanup(created: Sequence[CreatedToken]) -> list[str]:
        """Remove every token, then the directories they needed; return directories left."""
        return remove_tokens(created)
