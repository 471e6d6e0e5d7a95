"""`webhooks.request_body.parse_json` on its own: what it turns into a 400, and what it lets through unchanged."""
from __future__ import annotations

import pytest

from webhooks.request_body import MAX_DEPTH, BodyRefused, parse_json


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


class _BrokenChunking(OSError):
    """What a server raises from `wsgi.input` when the chunked framing is broken (gunicorn: InvalidChunkSize)."""


class _BrokenStream:
    def __init__(self):
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise _BrokenChunking("Invalid chunk size: 'zz'")
        return b'{"ticket_id": '


@pytest.mark.parametrize("error", [_BrokenChunking, ValueError])
def test_a_body_the_server_cannot_read_is_a_400_whatever_the_server(error):
    """Whatever server runs the app, its framing error while the body is read is a 400, not a 500."""
    from flask import Flask

    from webhooks.request_body import read_body

    stream = _BrokenStream()
    if error is ValueError:
        stream.read = lambda size=-1: (_ for _ in ()).throw(ValueError("I/O operation on closed file"))
    app = Flask(__name__)
    with app.test_request_context("/webhooks/zendesk", method="POST", environ_overrides={
            "wsgi.input": stream, "wsgi.input_terminated": True, "CONTENT_TYPE": "application/json"}):
        with pytest.raises(BodyRefused) as refused:
            read_body(1024)
    assert (refused.value.status, refused.value.code) == (400, "invalid_body")
