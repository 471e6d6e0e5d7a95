"""Reading a request body we do not trust yet: its size before its bytes, then JSON that cannot hurt.

Shared by both webhooks, `/slack/events` and the predict API, so each answers an oversized body with
413 and a malformed one with 400, never a 5xx. The caller turns `BodyRefused` into its own JSON error.
"""
from __future__ import annotations

import json
import time

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

# Helpdesk, Slack and predict payloads nest fewer than 10 levels. Much deeper JSON is hostile: parsing it,
# or any recursive walk over it later (pydantic, json.dumps, the JSON column), exhausts Python's stack.
MAX_DEPTH = 64
_READ_SIZE = 64 * 1024
# After refusing a body, read and drop this much more of it (at most, and for at most this long) before we
# answer: a client still sending when the server closes gets a connection reset, not our 413.
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 3.0


class BodyRefused(Exception):
    """The body is too large (413) or not the JSON we need (400); `code` and `detail` make the answer."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def read_body(limit: int) -> bytes:
    """The raw body, at most `limit` bytes, whether or not the client sent Content-Length.

    A chunked body has no length, and werkzeug stops reading it at `MAX_CONTENT_LENGTH` without a word
    (under gunicorn, which sets `wsgi.input_terminated`). So we read one byte past `limit`: werkzeug's
    own cap then raises, or the extra byte shows. A chunked body of exactly `MAX_CONTENT_LENGTH` bytes is
    refused too, since its length cannot be told from a longer one's.
    """
    length = request.content_length
    if length is not None and length > limit:
        drain_refused_body()
        raise BodyRefused(413, "payload_too_large", f"the body is {length} bytes; at most {limit} are accepted")
    chunks, size = [], 0
    try:
        while size <= limit:
            chunk = request.stream.read(min(_READ_SIZE, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        size = limit + 1
    except (OSError, ValueError) as exc:  # the server's framing error (gunicorn's InvalidChunkSize is an OSError)
        raise BodyRefused(400, "invalid_body", f"the body cannot be read: {_short(exc) or type(exc).__name__}") \
            from None
    if size > limit:
        drain_refused_body()
        raise BodyRefused(413, "payload_too_large", f"the body is larger than {limit} bytes")
    return b"".join(chunks)


def drain_refused_body() -> None:
    """Read and drop the rest of a refused body, bounded by `DRAIN_BYTES` and `DRAIN_SECONDS`, so that the
    client has sent it all and reads the 413; a larger or slower one is cut off (the connection closes)."""
    length = request.content_length
    if length is not None and length > DRAIN_BYTES:
        return
    # Never past a declared length (every caller drains before reading any of such a body): where
    # `wsgi.input` is the socket itself (werkzeug's server), one more read would wait for bytes that never come.
    budget = DRAIN_BYTES if length is None else length
    stream = request.environ.get("wsgi.input")
    deadline, dropped = time.monotonic() + DRAIN_SECONDS, 0
    try:
        while stream is not None and dropped < budget and time.monotonic() < deadline:
            chunk = stream.read(min(_READ_SIZE, budget - dropped))
            if not chunk:
                return
            dropped += len(chunk)
    except (OSError, ValueError):  # the client went away, or the server's stream is done
        return


def parse_json(raw: bytes | str) -> object:
    """`raw` decoded as JSON (RFC 8259: no NaN or Infinity), nested at most `MAX_DEPTH` deep; else 400."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        raise BodyRefused(400, "invalid_json", f"the body is not valid JSON: {exc.msg} "
                                               f"(line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, UnicodeDecodeError) as exc:  # bad UTF-8, NaN, an integer of thousands of digits
        raise BodyRefused(400, "invalid_json", f"the body is not valid JSON: {_short(exc)}") from None
    if _deeper_than(value, MAX_DEPTH):
        raise _too_deep()
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _too_deep() -> BodyRefused:
    return BodyRefused(400, "invalid_json", f"the JSON is nested more than {MAX_DEPTH} levels deep")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."


def _deeper_than(value: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; a loop, not recursion, so any depth is safe."""
    pending = [(value, 1)] if isinstance(value, (dict, list)) else []
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
