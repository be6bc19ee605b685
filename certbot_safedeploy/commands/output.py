"""What every command prints the same way: exit codes, findings, the names to check."""

from __future__ import annotations

import os
import sys
from typing import Any, Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def domains_or_renewed(args_domains: Sequence[str] | None) -> list[str]:
    """The names given, else certbot's ``$RENEWED_DOMAINS`` (a deploy hook's environment)."""
    if args_domains:
        return list(args_domains)
    return os.environ.get("RENEWED_DOMAINS", "").split()


def print_findings(findings: Sequence[Any], subject: str, ok: bool, verbose: bool) -> None:
    """One line per finding (passed checks with -v), then the verdict line."""
    for finding in findings:
        if finding.severity.value != "ok" or verbose:
            print(finding.line())
    errors = sum(f.severity.value == "error" for f in findings)
    warnings = sum(f.severity.value == "warning" for f in findings)
    print(f"{subject}: {'OK' if ok else 'FAILED'} ({errors} error(s), {warnings} warning(s))")


def usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE
