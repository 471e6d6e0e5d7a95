"""`api.request_body.parse_json` on its own: what it turns into a 400, and what it lets through unchanged."""
from __future__ import annotations

import pytest

from api.request_body import MAX_DEPTH, BodyRefused, parse_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("raw, value", [(b"{}", {}), (b"5", 5), ('"\\ud800"', "\ud800"),
                                        (b'{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]})])
def test_json_comes_back_as_python(raw, value):
    assert parse_json(raw) == value


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused():
    assert parse_json(nested(MAX_DEPTH))
    with pytest.raises(BodyRefused, match=f"more than {MAX_DEPTH} levels"):
        parse_json(nested(MAX_DEPTH + 1))


@pytest.mark.parametrize("raw", [nested(1000), nested(200_000), b"[" * 200_000, b"{" * 10, b"NaN", b"[-Infinity]",
                                 b"\xff\xfe", b"", b"1" * 5000, b"{'a': 1}"],
                         ids=lambda raw: repr(raw[:12]))
def test_what_is_not_json_or_too_deep_is_a_400(raw):
    with pytest.raises(BodyRefused) as refused:
        parse_json(raw)
    assert (refused.value.status, refused.value.code) == (400, "invalid_json") and len(refused.value.detail) < 300
