"""Parsing renewalInfo answers and Retry-After: hostile input never passes."""

import email.utils
import json

import pytest

from certbot_safedeploy.syntax.renewalinfo import (MAX_RETRY_AFTER, MIN_RETRY_AFTER, AnswerError,
                                                   parse_renewal_info, parse_renewal_info_url, parse_retry_after,
                                                   parse_rfc3339)


def body(start="2026-01-02T03:04:05Z", end="2026-01-03T03:04:05Z", **extra):
    return json.dumps({"suggestedWindow": {"start": start, "end": end}, **extra}).encode()


def test_a_good_answer():
    w = parse_renewal_info(body(explanationURL="https://ca.example/why"))
    assert w.end - w.start == 86400
    assert w.explanation_url == "https://ca.example/why"
    assert w.text() == "2026-01-02T03:04:05Z .. 2026-01-03T03:04:05Z"


def test_offsets_and_fractions():
    assert parse_rfc3339("2026-01-02T05:04:05.5+02:00", "t") == parse_rfc3339("2026-01-02T03:04:05Z", "t") + 0.5
    assert parse_rfc3339("2026-01-02t03:04:05z", "t") == parse_rfc3339("2026-01-02T03:04:05Z", "t")


@pytest.mark.parametrize("raw, match", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[]", "not a JSON object"),
    (b"[" * 60000, "not JSON"),
    (b"{}", "no suggestedWindow"),
    (json.dumps({"suggestedWindow": []}).encode(), "no suggestedWindow"),
    (body(end="2026-01-01T00:00:00Z"), "ends .* before it starts"),
    (body(end="2026-01-02T03:04:05Z"), "ends .* before it starts"),
    (body(start=1767322800), "not an RFC 3339"),
    (body(start="2026-01-02"), "not an RFC 3339"),
    (body(start="99999-01-02T03:04:05Z"), "not an RFC 3339"),
    (body(start="1969-01-02T03:04:05Z"), "not an RFC 3339"),
    (body(start="2026-02-30T03:04:05Z"), "not a real date"),
    (body(start="2026-01-02T25:04:05Z"), "not a real date"),
    (body(start="2026-01-02T03:04:99Z"), "not a real date"),
    (body(start="2026-01-02T03:04:05+99:00"), "bad UTC offset"),
    (body(start="2026-01-02T03:04:05Z" + "0" * 1000), "not an RFC 3339"),
    (body(explanationURL="javascript:alert(1)"), "explanationURL"),
    (body(explanationURL=42), "explanationURL"),
    (body(explanationURL="https://x/" + "a" * 5000), "explanationURL"),
    (body(explanationURL="https://x/\nInjected: line"), "explanationURL"),
    (b'{"suggestedWindow": {"start": 1' + b"0" * 5000 + b"}}", "not JSON|not an RFC"),
    (b" " * 70000, "larger than"),
])
def test_hostile_answers(raw, match):
    with pytest.raises(AnswerError, match=match):
        parse_renewal_info(raw)


def test_directory():
    assert parse_renewal_info_url(b'{"renewalInfo": "https://ca.example/ri"}') == "https://ca.example/ri"
    assert parse_renewal_info_url(b'{"newNonce": "https://ca.example/n"}') is None
    for bad in (b'{"renewalInfo": "http://ca.example/ri"}', b'{"renewalInfo": ["x"]}', b"<html>"):
        with pytest.raises(AnswerError):
            parse_renewal_info_url(bad)


def test_retry_after_seconds_and_dates():
    now = 1_800_000_000.0
    assert parse_retry_after("21600", now) == 21600
    assert parse_retry_after(" 120 ", now) == 120
    assert parse_retry_after("0", now) == MIN_RETRY_AFTER
    assert parse_retry_after("9" * 40, now) == MAX_RETRY_AFTER
    assert parse_retry_after(email.utils.formatdate(now + 3600, usegmt=True), now) == 3600
    assert parse_retry_after(email.utils.formatdate(now - 3600, usegmt=True), now) == MIN_RETRY_AFTER
    assert parse_retry_after(email.utils.formatdate(now + 10 ** 8, usegmt=True), now) == MAX_RETRY_AFTER
    for bad in (None, "", "-5", "1.5", "soon", "Mon, 99 Foo 2026 99:99:99 GMT", "x" * 100, "\u0661\u0662"):
        assert parse_retry_after(bad, now) is None
