"""The strict header-field reader (transports/request_head.py) on its own."""

import pytest

from transports.request_head import InvalidFieldLine, parse_head


def test_fields_keep_their_order_and_case_and_lose_their_surrounding_whitespace():
    head = parse_head([b"Host: a\r\n", b"X-Two:  b  c \t\r\n", b"x-two:d\n", b"Empty:\r\n"])
    assert head.fields == [("Host", "a"), ("X-Two", "b  c"), ("x-two", "d"), ("Empty", "")]
    assert head.get("X-TWO") == "b  c" and head.get_all("x-two") == ["b  c", "d"]
    assert head.get("missing") is None and head.get_all("missing") is None
    assert head.get("missing", "default") == "default"
    assert list(head.headers) == ["Host: a\r\n", "X-Two: b  c\r\n", "x-two: d\r\n", "Empty: \r\n"]


def test_obs_text_is_a_value_like_any_other():
    assert parse_head([b"X-Name: caf\xe9\r\n"]).get("x-name") == "caf\xe9"


def test_deleting_removes_every_field_of_the_name_and_setting_appends():
    head = parse_head([b"Content-Length: 5\r\n", b"Host: a\r\n", b"content-length: 5\r\n"])
    del head["Content-Length"]
    head["Content-Length"] = "5"
    assert head.fields == [("Host", "a"), ("Content-Length", "5")]
    assert "content-length" in head and "expect" not in head
    assert head.typeheader is None and head.status == ""


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([b"Host : a\r\n"], "whitespace between"),
        ([b"Host\r\n"], "no colon"),
        ([b"Host: a\r\n", b" b\r\n"], "folded"),
        ([b" Host: a\r\n"], "before the first"),
        ([b"Host: a\rb\r\n"], "control character"),
        ([b"Host: a\x00\r\n"], "control character"),
        ([b"Host: a\x7f\r\n"], "control character"),
        ([b"Ho\xe9st: a\r\n"], "not a token"),
        ([b": a\r\n"], "not a token"),
    ],
)
def test_a_line_that_is_not_a_field_is_refused_with_the_reason(lines, why):
    with pytest.raises(InvalidFieldLine, match=why):
        parse_head(lines)
