"""The configuration as the rest of the package sees it: one typed object per file.

:func:`certbot_safedeploy.config.load.load_config` builds a :class:`Config`;
each consumer takes the section it needs (``config.challenge``, ``config.fleet``,
``config.notify``, ``config.status``, ``config.targets``) and parses nothing again.
"""

from __future__ import annotations

import dataclasses

from certbot_safedeploy.config.challenge_section import ChallengeSettings
from certbot_safedeploy.config.fleet_section import FleetSettings
from certbot_safedeploy.config.target_section import Target
from certbot_safedeploy.report.notify import NotifySettings
from certbot_safedeploy.report.status import StatusSettings

DEFAULT_PATH = "/etc/letsencrypt/safedeploy.toml"
DEFAULT_STATE_DIR = "/var/lib/certbot-safedeploy"


@dataclasses.dataclass(frozen=True)
class Config:
    source: str
    trust_anchors: tuple[str, ...] = ()
    backups: int = 3
    state_dir: str = DEFAULT_STATE_DIR
    targets: tuple[Target, ...] = ()
    notify: NotifySettings = NotifySettings()
    status: StatusSettings = StatusSettings()
    challenge: ChallengeSettings | None = None  # None: the file has no [challenge] table
    fleet: FleetSettings | None = None  # None: no [fleet] table (or not read, as in the plugin)

    def targets_for(self, lineage_name: str) -> list[Target]:
        return [t for t in self.targets if t.lineage == lineage_name]

    @property
    def runs_commands(self) -> bool:
        """Does the file name commands that run as root (then it must be root's alone)?"""
        return (any(t.check or t.reload for t in self.targets) or bool(self.notify.command or self.notify.mail)
                or bool(self.fleet and self.fleet.certbot_given))
