"""Exceptions shared across the package.

Every error carries enough to print one line that names the file, the check that
failed and the fix, so that an administrator reading a mail or a journal line at
3 a.m. knows what to do without reading code.
"""

from __future__ import annotations


class SafeDeployError(Exception):
    """Base class for every error this package raises on purpose."""

    def __init__(self, message: str, *, path: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.fix = fix

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class ConfigError(SafeDeployError):
    """The TOML configuration is invalid or unsafe to act on."""


class LineageError(SafeDeployError):
    """A certbot lineage directory cannot be read."""


class InstallError(SafeDeployError):
    """Staging or installing files failed."""


class ChallengeError(SafeDeployError):
    """An ACME challenge could not be set up, checked or removed."""


class FleetError(SafeDeployError):
    """The fleet store, an enrollment or an issued certificate is unusable."""
