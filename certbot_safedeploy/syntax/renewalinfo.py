"""ACME Renewal Information answers (RFC 9773 section 4.2) and ``Retry-After`` (pure).

A renewalInfo answer is a JSON object::

    {"suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"},
     "explanationURL": "https://acme.example.com/docs/ari"}

Everything here is hostile input: the body is size-capped by the caller, and any
answer that is not exactly this shape (bad JSON, a missing or non-string time, a
window that ends before it starts, a year outside 2000-2999, an explanationURL that is
not an http(s) URL) raises :class:`AnswerError` and must never trigger a renewal.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.utils
import re

from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.syntax.jsontext import parse_json

MAX_ANSWER_BYTES = 64 * 1024
MAX_URL_LENGTH = 2048
# RFC 9773 section 4.3: "values under one minute could be treated as if they were one
# minute, and values over one day could be treated as if they were one day"
MIN_RETRY_AFTER, MAX_RETRY_AFTER = 60, 86400
DEFAULT_RETRY_AFTER = 6 * 3600  # no (or an unreadable) Retry-After: check again in 6 h

# RFC 3339 section 5.6 date-time: full-date "T" full-time, offset Z or +hh:mm
_RFC3339 = re.compile(r"^(2\d{3})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_URL = re.compile(r"^https?://[\x21-\x7e]+$")


class AnswerError(SafeDeployError):
    """A renewalInfo (or directory) answer that must not be acted on."""


@dataclasses.dataclass(frozen=True)
class Window:
    """The CA's suggested renewal window (epoch seconds, end > start)."""

    start: float
    end: float
    explanation_url: str | None = None

    def text(self) -> str:
        return f"{format_time(self.start)} .. {format_time(self.end)}"


def format_time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: object, what: str) -> float:
    """An RFC 3339 timestamp -> epoch seconds; AnswerError for anything else."""
    if not isinstance(text, str) or len(text) > 64:
        raise AnswerError(f"{what} is not an RFC 3339 time")
    match = _RFC3339.match(text)
    if not match:
        raise AnswerError(f"{what} {text[:40]!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, offset = match.group(7) or "", match.group(8)
    if offset in ("Z", "z"):
        tz = datetime.timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise AnswerError(f"{what} {text!r} has a bad UTC offset")
        tz = datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))
    if second > 60:  # 60: a leap second, read as :59
        raise AnswerError(f"{what} {text!r} is not a real date and time")
    try:
        stamp = datetime.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=tz)
    except ValueError:
        raise AnswerError(f"{what} {text!r} is not a real date and time") from None
    return stamp.timestamp() + (float(fraction) if fraction else 0.0)


def _json_object(body: bytes, what: str) -> dict[str, object]:
    if len(body) > MAX_ANSWER_BYTES:
        raise AnswerError(f"{what} is larger than {MAX_ANSWER_BYTES} bytes")
    try:
        data = parse_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise AnswerError(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise AnswerError(f"{what} is not a JSON object")
    return data


def parse_renewal_info(body: bytes) -> Window:
    """Parse a renewalInfo answer body (RFC 9773 section 4.2)."""
    data = _json_object(body, "the answer")
    window = data.get("suggestedWindow")
    if not isinstance(window, dict):
        raise AnswerError("the answer has no suggestedWindow object")
    start = parse_rfc3339(window.get("start"), "suggestedWindow.start")
    end = parse_rfc3339(window.get("end"), "suggestedWindow.end")
    if end <= start:
        raise AnswerError(f"suggestedWindow ends ({window['end']}) before it starts ({window['start']})")
    url = data.get("explanationURL")
    if url is not None and not (isinstance(url, str) and len(url) <= MAX_URL_LENGTH and _URL.match(url)):
        raise AnswerError("explanationURL is not an http(s) URL")
    return Window(start, end, url)


def parse_renewal_info_url(body: bytes) -> str | None:
    """The ``renewalInfo`` URL of an ACME directory (RFC 8555 section 7.1.1), or None if not offered."""
    data = _json_object(body, "the ACME directory")
    url = data.get("renewalInfo")
    if url is None:
        return None
    if not (isinstance(url, str) and len(url) <= MAX_URL_LENGTH and url.startswith("https://")
            and _URL.match(url)):
        raise AnswerError("the directory's renewalInfo is not an https URL")
    return url


def parse_retry_after(value: str | None, now: float) -> int | None:
    """``Retry-After`` (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date) -> seconds from ``now``,
    clamped to one minute .. one day (RFC 9773 section 4.3); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if value.isascii() and value.isdigit():
        seconds = int(value[:12]) if len(value) <= 12 else MAX_RETRY_AFTER
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = int(when.timestamp() - now)
    return max(MIN_RETRY_AFTER, min(MAX_RETRY_AFTER, seconds))
