"""Pathological ticket texts of about 1 MB: each makes some once-quadratic text routine crawl.

Shared by the hang-guard tests here and by `bench/hostile_text.py`. Each is about `SIZE` characters, so
the texts are also larger than every cap in `classifier.limits`.
"""
from __future__ import annotations

SIZE = 1_000_000


def _repeat(unit: str, size: int = SIZE, tail: str = "") -> str:
    return unit * (size // len(unit)) + tail


def hostile_texts(size: int = SIZE) -> dict[str, str]:
    """Name -> text. The comment says which routine the text was aimed at."""
    return {
        "single word": "a" * size,  # e-mail masking from every start of one long word
        "a.a.a.": _repeat("a.", size),  # e-mail local part of dots
        "at signs": _repeat("@", size),
        "a@ repeated": _repeat("a@", size),  # e-mail domain tries
        "a@a. repeated": _repeat("a@a.", size),  # many short matches
        "long domain": "a@" + _repeat("b", size),  # a domain without a dot
        "angle brackets": _repeat("<", size),  # tag stripping
        "unclosed tags": _repeat("<a", size),
        "tag, unclosed breaks": "<p>" + _repeat("<br", size),  # break tags: each one scanned to the end
        "unclosed scripts": _repeat("<script>", size),  # script stripping scans to the end from each
        "quoted lines": _repeat("> \n", size),  # quote stripping
        "blank lines": _repeat("\n", size),  # every line pattern with a leading \s*
        "spaces and newlines": _repeat(" \n", size),
        "digit run": _repeat("1 ", size),  # phone masking
        "brackets": _repeat("(", size),
        "plus then digits": "+1" + _repeat(" 1", size, tail="x"),
        "digit groups": _repeat("11-", size, tail="x"),
        "reply header lines": _repeat("On " + "x " * 150 + "\n", size),  # `on .{0,200}wrote:`
        "one long on-line": "On " + _repeat("wrote: ", size),
        "schrieb line": "Am " + _repeat("schrieb ", size),
        "dashes": _repeat("-", size),  # `-{2,}original message`
        "sign-offs": _repeat("thanks\n", size),  # the sign-off loop
        "sign-off then spaces": "--" + " " * size + "x",  # nested \s*\s*$
    }


ORDINARY_SUBJECT = "Refund for order 4711"
ORDINARY_BODY = ("Hello, I ordered a lamp last week and it arrived broken. I would like my money back, please. "
                 "You can reach me at jane.doe@example.com or +44 20 7946 0958.\n\nThanks,\nJane")
