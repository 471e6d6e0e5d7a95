"""Turns raw ticket text (HTML, e-mail threads, signatures) into the plain text the models see.

Only the newest message of an e-mail counts: quoted replies, header blocks, disclaimers and signatures
repeat other tickets and drown the words that say what this one is about (`classifier.email_text` finds the
newest message with quotequail; the patterns here catch what lies past the window it reads). What carries
signal stays: the subject, and the sender's domain as one word (`senderdomain_example_com`). Bodies are cut
at `MAX_CHARS` characters after cleaning (and at `MAX_RAW_CHARS` before, so a 5 MB body costs no more than a
long one); the first few thousand characters carry the request, and n-gram and embedding costs grow with
length (see `classifier.limits`).

Every pattern here runs in time linear in its input: a line pattern never lets whitespace run across lines
(`[^\S\n]`, so 100,000 blank lines are not each rescanned to the end), repetitions are bounded or
possessive, and a tag may not contain `<` (so a scan from each `<` ends at the next one).
"""
from __future__ import annotations

import html
import re

from classifier.email_text import clean_domain, clean_email, sender_token, split_header_block
from classifier.limits import MAX_BODY_CHARS, MAX_CLEAN_CHARS
from classifier.normalisation import VERSION as TEXT_NORMALISATION, normalise_text

MAX_CHARS = MAX_CLEAN_CHARS
MAX_RAW_CHARS = MAX_BODY_CHARS

_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,2000}+>")
# Up to the matching end tag; the scan stops at the next <script or <style, so unclosed ones cost one pass.
_SCRIPT = re.compile(r"<(script|style)\b(?:[^<]++|<(?!(?:script|style)\b|/\1\b))*+</\1\s*+>", re.IGNORECASE)
_BREAK_TAG = re.compile(r"<\s*+(?:br|/p|/div|/li|/tr|/h\d)\b[^<>]{0,2000}+>", re.IGNORECASE)
_LINE_START, _LINE_END = r"^[^\S\n]*+", r"[^\S\n]*+$"  # horizontal whitespace only
# A line that starts a quoted earlier message: everything from here on is history, not this ticket.
_REPLY_HEADER = re.compile(
    _LINE_START + r"(?:-{2,}[^\S\n]*original message[^\S\n]*-{2,}|-{2,}[^\S\n]*forwarded message[^\S\n]*-{2,}"
    r"|on .{0,200}wrote:|am .{0,200}schrieb .{0,100}:|le .{0,200}a écrit[^\S\n]*:"
    r"|el .{0,200}escribió[^\S\n]*:|from:\s.+|von:\s.+|de:\s.+@.+|_{10,})" + _LINE_END,
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_LINE = re.compile(_LINE_START + r">.*$", re.MULTILINE)
# Sign-off lines; only cut when they sit in the last part of the text (a signature, not the request).
_SIGN_OFF = re.compile(
    _LINE_START + r"(?:--|best regards,?|kind regards,?|regards,?|thanks,?|thank you,?|cheers,?|sincerely,?"
    r"|mit freundlichen grüßen,?|viele grüße,?|saludos(?: cordiales)?,?|cordialement,?|atenciosamente,?"
    r"|mit besten grüßen,?|(?:beste|liebe|freundliche) grüße,?|un saludo,?|atentamente,?"
    r"|bien cordialement,?|bien à vous,?|cumprimentos,?|cordiali saluti,?"
    r"|sent from my .{1,60}|get outlook for .{1,60}|gesendet von meinem .{1,60}|von meinem .{1,40} gesendet"
    r"|envoyé de mon .{1,60}|enviado desde mi .{1,60}|enviado do meu .{1,60})" + _LINE_END,
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_CHARS = 400  # a signature's name, title, company and phone lines (a sign-off line is < 100)
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
    """The newest message alone: no quoted replies, header blocks, disclaimers or trailing signature."""
    text = clean_email(text)
    header = _REPLY_HEADER.search(text)  # past quotequail's window
    if header and header.start() > _first_non_blank(text):
        text = text[: header.start()]
    text = _QUOTED_LINE.sub("", text)
    first = _first_non_blank(text)
    # a sign-off counts in the last half, or with only a signature after it: no earlier one can
    for sign_off in _SIGN_OFF.finditer(text, max(0, min(len(text) // 2, len(text) - _SIGNATURE_CHARS - 100))):
        start = sign_off.start()
        if start > first and (start >= 0.5 * len(text) or _signature_follows(text, sign_off.end())):
            return text[:start]
    return text


def _signature_follows(text: str, end: int) -> bool:
    """After a sign-off, only a few short lines (name, title, phone): a signature, wherever it sits."""
    return len(text) - end <= _SIGNATURE_CHARS and all(len(line) <= 80 for line in text[end:].split("\n"))


def _first_non_blank(text: str) -> int:
    """Index of the first non-whitespace character: a header or sign-off there has nothing before it."""
    return len(text) - len(text.lstrip())


def fold_whitespace(text: str) -> str:
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def normalise(text: object, sender_domain: str | None = None,
              text_normalisation: int = TEXT_NORMALISATION) -> str:
    """Clean one ticket text; anything that is not a string (None, NaN, numbers) becomes text or ''.

    The sender's domain (from a header block at the top of the text, else `sender_domain`, the ticket's
    requester) ends the text as one word, so the word TF-IDF can learn which customers send what.

    `text_normalisation` is the model's text normalisation (`classifier.normalisation`); 0, for models trained
    before it, cleans exactly as they were trained. From 1 the raw text is put in one Unicode form before any
    pattern reads it (so a sign-off in NFD or laced with zero-width spaces is still found), keeping its case for
    the e-mail patterns; the cleaned text is then case folded, and what HTML entities decoded is normalised too."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text[:MAX_RAW_CHARS]
    if text_normalisation:
        text = normalise_text(text, fold_case=False)[:MAX_RAW_CHARS]
    text, domain = split_header_block(text)
    cleaned = cut_history(strip_html(text))
    cleaned = fold_whitespace(normalise_text(cleaned) if text_normalisation else cleaned)
    domain = domain or clean_domain(sender_domain)
    if not cleaned or not domain:
        return cleaned[:MAX_CHARS]
    token = sender_token(domain)
    return f"{cleaned[:MAX_CHARS - len(token) - 1]}\n{token}"

