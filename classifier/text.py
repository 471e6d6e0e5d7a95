"""Turns raw ticket text (HTML, e-mail threads, signatures) into the plain text the models see.

Only the newest message of an e-mail counts: quoted replies and signatures repeat other tickets and
drown the words that say what this one is about. Bodies are cut at `MAX_CHARS` characters after cleaning
(and at `MAX_RAW_CHARS` before, so a 5 MB body costs no more than a long one); the first few thousand
characters carry the request, and n-gram and embedding costs grow with length.
"""
from __future__ import annotations

import html
import re

MAX_CHARS = 4000
MAX_RAW_CHARS = 50_000

_TAG = re.compile(r"<[a-zA-Z/!][^>]{0,2000}>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
# A line that starts a quoted earlier message: everything from here on is history, not this ticket.
_REPLY_HEADER = re.compile(
    r"^\s*(-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message\s*-{2,}"
    r"|on .{0,200}wrote:|am .{0,200}schrieb .{0,100}:|le .{0,200}a écrit\s*:|el .{0,200}escribió\s*:"
    r"|from:\s.+|von:\s.+|de:\s.+@.+|_{10,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
# Sign-off lines; only cut when they sit in the last part of the text (a signature, not the request).
_SIGN_OFF = re.compile(
    r"^\s*(--\s*|best regards,?|kind regards,?|regards,?|thanks,?|thank you,?|cheers,?|sincerely,?"
    r"|mit freundlichen grüßen,?|viele grüße,?|saludos( cordiales)?,?|cordialement,?|atenciosamente,?"
    r"|sent from my .+)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def strip_html(text: str) -> str:
    """Plain text of an HTML body; plain text passes through unchanged."""
    if "<" not in text or not _TAG.search(text):
        return html.unescape(text) if "&" in text else text
    text = _SCRIPT.sub(" ", text)
    text = _BREAK_TAG.sub("\n", text)
    return html.unescape(_TAG.sub(" ", text))


def cut_history(text: str) -> str:
    """Drop quoted replies (`> ...`, `On ... wrote:` and what follows) and a trailing signature."""
    header = _REPLY_HEADER.search(text)
    if header and header.start() > 0:
        text = text[: header.start()]
    text = _QUOTED_LINE.sub("", text)
    for sign_off in _SIGN_OFF.finditer(text):
        if sign_off.start() >= 0.5 * len(text) and sign_off.start() > 0:
            return text[: sign_off.start()]
    return text


def fold_whitespace(text: str) -> str:
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def normalise(text: object) -> str:
    """Clean one ticket text; anything that is not a string (None, NaN, numbers) becomes text or ''."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text[:MAX_RAW_CHARS]
    text = cut_history(strip_html(text))
    return fold_whitespace(text)[:MAX_CHARS]
