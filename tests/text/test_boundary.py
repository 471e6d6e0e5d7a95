"""Text walks at the edges: the Zendesk comment header, payload tags, log redaction and drift words."""
from __future__ import annotations

import logging

import pytest

from classifier.limits import MAX_LOG_CHARS, MAX_TAG_CHARS, MAX_TAGS
from pathological import hostile_texts
from classifier.drift_profile import words
from integrations import payload_fields as fields
from integrations.inbound import MalformedPayload
from integrations.zendesk.webhook import strip_comment_header
from telemetry.redaction import CUT, REDACTED, SecretRedactor

HOSTILE = hostile_texts()
HEADER = "-" * 40 + "\n\n"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_the_comment_header_is_stripped_in_one_pass(name):
    assert len(strip_comment_header(HEADER + HOSTILE[name])) <= len(HOSTILE[name])


@pytest.mark.timeout(20)
def test_a_header_followed_by_a_million_blank_lines_is_stripped():
    body = HEADER + "\n" * 1_000_000 + "Jane, 1 May\n\nMy order is late"
    assert strip_comment_header(body) == "My order is late"
    assert strip_comment_header(HEADER + "Jane, 1 May\n\nHello") == "Hello"


@pytest.mark.timeout(20)
def test_a_hundred_thousand_tags_keep_the_first_distinct_ones():
    many = [f"tag{i % 50_000}" for i in range(100_000)]
    tags = fields.optional_tags({"tags": many}, "tags", "tags", fields.split_on_whitespace)
    assert tags == tuple(f"tag{i}" for i in range(MAX_TAGS))
    as_text = fields.optional_tags({"tags": " ".join(many)}, "tags", "tags", fields.split_on_whitespace)
    assert as_text == tags


def test_tags_are_deduplicated_and_overlong_ones_dropped():
    raw = ["b", " a ", "b", "x" * (MAX_TAG_CHARS + 1), "", "a", "y" * MAX_TAG_CHARS]
    assert fields.optional_tags({"t": raw}, "t", "t", fields.split_on_whitespace) == ("b", "a", "y" * MAX_TAG_CHARS)
    with pytest.raises(MalformedPayload, match=r"t\[100001\]"):  # every item is still checked
        fields.optional_tags({"t": ["a"] * 100_001 + [3]}, "t", "t", fields.split_on_whitespace)


def _filtered(redactor: SecretRedactor, message: str, **extra) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": "%s", "args": (message,), **extra})
    assert redactor.filter(record)
    return record


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_a_megabyte_log_message_is_cut_and_redacted(name):
    record = _filtered(SecretRedactor({"s3cret-value"}), HOSTILE[name] + "s3cret-value", detail=HOSTILE[name])
    assert len(record.getMessage()) == MAX_LOG_CHARS + len(CUT) and len(record.detail) == MAX_LOG_CHARS + len(CUT)


def test_a_secret_across_the_cut_is_redacted_not_halved():
    secret = "abcdefghijklmnop"
    for offset in range(len(secret) + 1):
        message = "x" * (MAX_LOG_CHARS - offset) + secret + "y" * 100
        shown = _filtered(SecretRedactor({secret}), message).getMessage()
        assert secret[:3] not in shown and shown.endswith(CUT)  # a plain cut would show its head
    long_secret = "L" * 60  # replacements shrink the text: the half secret at the window's end must not slide in
    message = f"{long_secret} " * 200 + "x" * (MAX_LOG_CHARS - 12_200 + 40) + long_secret + secret
    shown = _filtered(SecretRedactor({secret, long_secret}), message).getMessage()
    assert "LLLLLL" not in shown and "abc" not in shown and shown.endswith(CUT)
    assert _filtered(SecretRedactor(), "short line").getMessage() == "short line"
    assert _filtered(SecretRedactor({secret}), f"a {secret} b").getMessage() == f"a {REDACTED} b"


def test_a_megabyte_traceback_is_cut():
    try:
        raise ValueError("a" * 1_000_000)
    except ValueError as error:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": (ValueError, error, error.__traceback__)})
    SecretRedactor().filter(record)
    assert record.exc_info is None and len(record.exc_text) == MAX_LOG_CHARS + len(CUT)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_drift_reads_words_from_capped_text(name):
    assert isinstance(words(HOSTILE[name]), set)
