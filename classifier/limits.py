"""The documented caps on ticket text: every regex, parser and model of triage reads text cut to these.

The store keeps what the helpdesk sent (a request is at most `TRIAGE_MAX_BODY_BYTES`); what is classified,
masked, rendered or logged is cut first. The first thousands of characters carry the request, and with the
text routines linear in their input (tests/text) a cap bounds what one ticket can cost.
"""
from __future__ import annotations

MAX_SUBJECT_CHARS = 1_000  # a subject line; Slack's header shows 150 of them
MAX_BODY_CHARS = 50_000  # the raw body (HTML, quoted history) before cleaning
MAX_CLEAN_CHARS = 4_000  # the cleaned text the models read
MAX_TAGS = 200  # as many as the predict API accepts
MAX_TAG_CHARS = 100  # a longer "tag" is dropped, not cut: half a tag is a tag the helpdesk never had
MAX_LOG_CHARS = 16_000  # a log line's message, each of its string fields, and its traceback

# What a phone number is made of; a cut strips these from its end (see `head_of_whole_words`).
_NUMBER_CHARS = "0123456789()+-. \t\r\n\f\v\u00a0"
CUT_MARK = "…"


def head(text: object, limit: int) -> str:
    """The first `limit` characters (anything but a string becomes its string form, as an f-string would)."""
    return (text if isinstance(text, str) else str(text))[:limit]


def head_of_whole_words(text: str, limit: int) -> str:
    """At most `limit` characters (plus a cut mark), never ending in part of a word or a number.

    For text masked after the cut: half an e-mail address or phone number is no longer recognised as one
    and would be shown. So a cut drops the word it splits and then any digits, brackets and separators
    before it (the leading groups of a phone number)."""
    if len(text) <= limit:
        return text
    kept = text[:limit]
    if not text[limit].isspace() and not kept[-1].isspace():
        words = kept.rsplit(None, 1)
        kept = words[0] if len(words) == 2 else ""
    kept = kept.rstrip(_NUMBER_CHARS)
    return f"{kept} {CUT_MARK}" if kept else CUT_MARK
