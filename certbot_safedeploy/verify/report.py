"""Findings and reports produced by the verification checks."""

from __future__ import annotations

import dataclasses
import enum
from typing import Iterable


class Severity(str, enum.Enum):
    """How much a finding matters: errors refuse a deploy, warnings do not."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One result of one check on one file."""

    severity: Severity
    file: str
    check: str
    message: str
    fix: str = ""

    def line(self) -> str:
        """Render the finding as the single line an operator reads."""
        text = f"{self.severity.value.upper()}: {self.file}: {self.check}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "file": self.file,
            "check": self.check,
            "message": self.message,
            "fix": self.fix,
        }


def error(file: str, check: str, message: str, fix: str = "") -> Finding:
    return Finding(Severity.ERROR, file, check, message, fix)


def warning(file: str, check: str, message: str, fix: str = "") -> Finding:
    return Finding(Severity.WARNING, file, check, message, fix)


def passed(file: str, check: str, message: str) -> Finding:
    return Finding(Severity.OK, file, check, message)


@dataclasses.dataclass
class Report:
    """All findings for one subject (usually a lineage directory)."""

    subject: str
    findings: list[Finding] = dataclasses.field(default_factory=list)
    engine: str = ""  # the path-validation engine that decided trust, when one ran

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "subject": self.subject,
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
        }
        if self.engine:
            result["engine"] = self.engine
        return result
