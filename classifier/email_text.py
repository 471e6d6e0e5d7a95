"""Raw e-mail to the newest message: header blocks, quoted and forwarded history, legal disclaimers.

quotequail finds where an earlier message begins in plain text: "On ... wrote:", "Am ... schrieb ...:",
"Le ... a écrit :", "-----Original Message-----", Outlook's From:/Sent:/To:/Subject: blocks, forward
markers and blocks of `>` lines, and it reads a forwarded message's headers. A forward keeps the forwarded
message (its subject and body are the request); a reply keeps only the text above the quote. An RFC 822
header block at the top is read with the standard library (`email`): its Subject stays, its From gives the
sender's domain, the rest goes. Disclaimers are ours: no library lists them.

Linear time. quotequail splits the text into lines and runs some forty patterns on each (and on each pair,
for wrapped lines); a few backtrack within a line (its `YYYY/MM/DD ... <...@...>` reply pattern is cubic in
the line's length), and at each quoted or header-like line it copies the rest of the line list. So it reads
a bounded skeleton: the first `WINDOW_LINES` lines of the whitespace-folded text, each cut to `LINE_CHARS`,
which costs a few milliseconds at worst whatever the input. It returns text, not line numbers; the line
count of the text it keeps gives the split, and the kept lines are taken whole from the real text.
"""
from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.utils import parseaddr

import quotequail

from classifier.limits import MAX_CLEAN_CHARS

WINDOW_LINES = 30  # lines handed to quotequail; a reply header further down is left to our own patterns
LINE_CHARS = 100  # of each line; reply intros and header lines are shorter (mail clients wrap at ~78)
MAX_HEADER_LINES = 100  # an RFC 822 header block at the top, continuation lines included
DISCLAIMER_SCAN_CHARS = 3 * MAX_CLEAN_CHARS  # a disclaimer further down lies past what the models read
MAX_ADDRESS_CHARS = 320  # an e-mail address (RFC 3696), as the store keeps the requester
SENDER_TOKEN_PREFIX = "senderdomain_"

# Folding in passes that each start with one character class or a literal, which the regex engine skips to
# quickly: other horizontal whitespace to spaces (never across a line), runs of spaces to one, blank runs.
_ODD_SPACE = re.compile(r"[^\S \n]+")
_SPACE_RUN = re.compile(r"  +")
_BLANK_RUN = re.compile(r"\n\n\n+")
_FIELD = re.compile(r"([!-9;-~]{1,60}):")  # an RFC 5322 field name at the start of a line
_RFC822_FIRST = {"return-path", "received", "delivered-to", "from", "date", "to", "subject", "message-id",
                 "mime-version", "dkim-signature", "authentication-results", "reply-to", "sender"}
_RFC822_ONLY = {"return-path", "received", "message-id", "mime-version", "content-type", "delivered-to",
                "dkim-signature", "authentication-results", "content-transfer-encoding"}
_REPLY_SUBJECT = re.compile(r"(?:re|aw|sv|vs|antw|r|rif|res|ref)[^\S\n]{0,3}:", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"(?:fwd?|wg|tr|rv|enc|i)[^\S\n]{0,3}:", re.IGNORECASE)
_FORWARD_MARK = re.compile(
    r"forwarded message|begin forwarded|weitergeleitete|message transf[ée]r[ée]|r[ée]exp[ée]di[ée]"
    r"|mensaje reenviado|mensagem encaminhada|mensagem reencaminhada|doorgestuurd|vidarebefordrat",
    re.IGNORECASE,
)
_DOMAIN = re.compile(r"[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}")
_NOT_WORD = re.compile(r"\W")
_LINE_START = r"^[^\S\n]*+(?:[*_#]{1,3}[^\S\n]*)?"
# The first words of a legal disclaimer or an external-sender banner, in English, German, French, Spanish and
# Portuguese. Each gap is bounded, so a line costs at most a few hundred steps.
_DISCLAIMER = re.compile(
    _LINE_START + r"(?:"
    r"(?:disclaimer|confidentiality notice|haftungsausschluss|vertraulichkeitshinweis|avis de confidentialit[ée]"
    r"|aviso legal|aviso de confidencialidad|aviso de confidencialidade)[^\S\n]*:"
    r"|(?:caution|warning|external)[^\S\n]*:[^\S\n]*(?:this (?:e-?mail|message)|external)"
    r"|(?:this|the information in this|the contents of this)[^\S\n]+(?:e-?mail|message|communication|transmission)"
    r"\b[^\n]{0,120}?\b(?:confidential|privileged|intended (?:solely|only|exclusively))"
    r"|this (?:e-?mail|message) (?:originated|came) from outside"
    r"|(?:diese|die in dieser)[^\S\n]+(?:e-?mail|nachricht)\b[^\n]{0,120}?\b(?:vertraulich|rechtlich gesch[üu]tzt)"
    r"|(?:ce|le pr[ée]sent)[^\S\n]+(?:message|courriel|e-?mail|mail)\b[^\n]{0,120}?\b(?:confidentiel|exclusive)"
    r"|(?:este|el presente)[^\S\n]+(?:mensaje|correo|e-?mail)\b[^\n]{0,120}?\b(?:confidencia|exclusivamente|sigilos)"
    r"|(?:esta|a presente)[^\S\n]+(?:mensagem|e-?mail)\b[^\n]{0,120}?\b(?:confidencia|exclusivamente|sigilos)"
    r")",
    re.IGNORECASE | re.MULTILINE,
)


def email_domain(address: object) -> str | None:
    """The lower-case domain of one e-mail address (`Jane <jane@Example.com>` -> `example.com`), else None."""
    if not isinstance(address, str) or "@" not in address:
        return None
    _, addr = parseaddr(address[:MAX_ADDRESS_CHARS])
    domain = addr.rpartition("@")[2].strip().strip(".").lower()
    return domain if "@" in addr and _DOMAIN.fullmatch(domain) else None


def clean_domain(domain: object) -> str | None:
    """A domain as the ticket carries it, lower case, or None when it is not one."""
    if not isinstance(domain, str) or len(domain) > 253:
        return None
    domain = domain.strip().lower()
    return domain if _DOMAIN.fullmatch(domain) else None


def sender_token(domain: str) -> str:
    """One word for the word TF-IDF: `example.com` -> `senderdomain_example_com`.

    Free-mail domains (gmail.com, web.de) stay too: they tell a consumer from a business customer, and IDF
    weighs down a domain that is everywhere; dropping them would make "no word" mean two things."""
    return SENDER_TOKEN_PREFIX + _NOT_WORD.sub("_", domain)


def fold_lines(text: str) -> str:
    """Runs of spaces to one, lines stripped, runs of blank lines to one blank line (a paragraph break)."""
    text = _SPACE_RUN.sub(" ", _ODD_SPACE.sub(" ", text)).replace(" \n", "\n").replace("\n ", "\n")
    return _BLANK_RUN.sub("\n\n", text).strip()


def clean_email(text: str) -> str:
    """The newest message, with a header block at its top and disclaimers cut."""
    return strip_disclaimers(newest_message(split_header_block(text)[0]))


def split_header_block(text: str) -> tuple[str, str | None]:
    """(the text with an RFC 822 header block at its top, or under a first subject line, replaced by its
    Subject, the domain of its From or None). Read before HTML stripping, which takes `<a@b.c>` for a tag."""
    lines = text.lstrip().split("\n", MAX_HEADER_LINES + 1)
    start = 0 if _field_name(lines[0]) in _RFC822_FIRST else 1
    if start >= len(lines) or _field_name(lines[start]) not in _RFC822_FIRST:
        return text, None
    names, block = set(), []
    for line in lines[start:start + MAX_HEADER_LINES]:
        line = line[:1000].rstrip()
        if not line.strip():
            break
        name = _field_name(line)
        names.add(name)
        block.append(line if name else " " + line.lstrip())  # a continuation line starts with a space
    else:
        return text, None  # no blank line after a hundred header lines: not a header block
    if "from" not in names or "sent" in names or len(names & (_RFC822_ONLY | {"date", "to", "subject"})) < 3:
        return text, None
    headers = HeaderParser().parsestr("\n".join(block) + "\n\n")
    subject = _decoded(headers.get("Subject"))
    kept = [lines[0].strip()] if start == 1 else []
    if subject and (not kept or subject.casefold() != kept[0].casefold()):
        kept.append(subject)
    rest = lines[start + len(block) + 1:]
    return "\n".join(kept + ["\n".join(rest)]).strip(), email_domain(str(headers.get("From") or ""))


def _field_name(line: str) -> str | None:
    """The header name a line starts with (lower case), or None for a continuation or an ordinary line."""
    match = _FIELD.match(line.lstrip(" \t\r"))
    return match.group(1).lower() if match else None


def _decoded(value: object) -> str:
    try:
        return " ".join(str(make_header(decode_header(str(value or "")))).split())[:1000]
    except (ValueError, LookupError, UnicodeError):
        return " ".join(str(value or "").split())[:1000]


def newest_message(text: str) -> str:
    """The newest message: above a quoted reply; a forward keeps what it forwards."""
    text = fold_lines(text)
    lines = text.split("\n", WINDOW_LINES)
    window = lines[:WINDOW_LINES]
    if len(window) < 2:
        return text  # one line: nothing to split
    found = quotequail.unwrap("\n".join(line[:LINE_CHARS] for line in window))
    if not found:
        return text
    top_count = found["text_top"].count("\n") + 1 if "text_top" in found else 0
    top = "\n".join(lines[:top_count])
    kind = found["type"]
    if kind == "quote":  # a `>` block without an intro line: answers may sit below it
        return "\n".join(part for part in (top, _tail(lines, window, found.get("text_bottom"))) if part)
    if kind == "reply" and top:
        return top
    if kind == "forward" and top and not _is_forward(found, window, top_count):
        return top  # Outlook's From:/Sent:/To:/Subject: block of a reply
    body = found.get("text", "")
    if "text_bottom" not in found:
        body = _tail(lines, window, body)  # the forwarded text runs to the end: take its lines whole
    subject = found.get("subject", "") if kind == "forward" else ""
    return "\n".join(part for part in (top, subject, body) if part)


def _is_forward(found: dict, window: list[str], top_count: int) -> bool:
    """A forward, not a reply: a forward marker line, a Fwd:/WG:/TR: subject, or no text of its own above."""
    subject = found.get("subject", "")
    if _REPLY_SUBJECT.match(subject):
        return False
    marker = any(_FORWARD_MARK.search(line[:LINE_CHARS]) for line in window[top_count:top_count + 3])
    own_lines = sum(1 for line in window[:top_count] if line.strip())
    return marker or bool(_FORWARD_SUBJECT.match(subject)) or own_lines <= 1


def _tail(lines: list[str], window: list[str], kept: str | None) -> str:
    """The real lines of text quotequail returned from the end of the window on, and every line past it."""
    if not kept:
        return ""
    last = len(window) - 1
    while last > 0 and not window[last].strip():
        last -= 1
    first = max(last - kept.count("\n"), 0)
    if window[first].startswith(">"):
        return kept  # quotequail unindented it: its own (line-capped) text
    return "\n".join(lines[first:])


def strip_disclaimers(text: str) -> str:
    """Drop each paragraph that starts like a legal disclaimer or a banner; never the whole text."""
    parts, position = [], 0
    for match in _DISCLAIMER.finditer(text, 0, DISCLAIMER_SCAN_CHARS):
        if match.start() < position:
            continue
        parts.append(text[position:match.start()])
        end = text.find("\n\n", match.end())
        position = len(text) if end < 0 else end
    parts.append(text[position:])
    kept = "".join(parts).strip()
    return kept or text
