"""syntax/jsontext.py: one JSON reader for outside input, with a nesting limit (RFC 8259 section 9)."""

import pytest

from certbot_safedeploy.syntax.jsontext import MAX_DEPTH, json_depth, parse_json


def test_ordinary_documents_parse():
    assert parse_json('{"a": [1, {"b": "[[[{{{"}]}') == {"a": [1, {"b": "[[[{{{"}]}
    assert parse_json(b'["\\u00e9", "\\"]"]') == ["é", '"]']


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, '{"a":' * 5000 + "1" + "}" * 5000,
                                  "[" * (MAX_DEPTH + 1), "[" * 100000])
def test_deep_nesting_is_a_value_error_not_a_recursion_error(text):
    """The long fuzz run found RecursionError escaping parse_webroot_map on '[' * 100000."""
    with pytest.raises(ValueError, match="nested more than"):
        parse_json(text)


def test_brackets_inside_strings_do_not_count():
    text = '["' + "[" * 1000 + '"]'
    assert json_depth(text) == 1 and parse_json(text) == ["[" * 1000]
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)  # the limit itself is accepted


@pytest.mark.parametrize("text", [b"\xff\xfe[]", "[1,", "", "NaN-ish"])
def test_every_failure_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_json(text)
