"""One text whatever its Unicode form: the normalisation every model input goes through (design.md, Classifier).

The same ticket arrives as NFC (most clients), NFD (macOS mail), full-width Latin ("Ｒｅｆｕｎｄ", East Asian input
methods), laced with zero-width spaces, soft hyphens or bidi controls (copied from web pages and chat tools), or
buried under stacked combining marks ("Zalgo"). Unnormalised, each form is a different word to the TF-IDF, so the
same request got different answers. `normalise_text` maps them all to one string:

1. compatibility decomposition (NFKD) with full case folding, twice, the Unicode recipe for a stable caseless
   form (folding can produce characters that decompose further);
2. no invisible or formatting characters: every format character (Cf: zero-width space, joiner and non-joiner,
   word joiner, BOM, soft hyphen, bidi marks, embeddings, overrides and isolates, tag characters) and the rest of
   Unicode's default-ignorable code points (variation selectors, the combining grapheme joiner, Hangul fillers);
3. at most `MAX_MARKS` combining marks after a character (real scripts need two or three; a storm adds hundreds);
4. recomposed (NFKC).

`VERSION` is written in a model's manifest (`text_normalisation`). A model trained before this existed carries
none and reads text as it always did (version 0): `classifier.text.normalise` applies this only for version 1.
Everything here is linear in its input: C-level normalisation and case folding, and two regexes that are a single
character class with possessive repetition. Output length is bounded: at most 54 characters per input character
(NFKC expands a character to at most 18, case folding to at most 3); callers cut it to their caps.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

VERSION = 1  # the version new models record; bump when the output of normalise_text changes
SUPPORTED = (0, 1)  # 0: no Unicode normalisation (models trained before it existed)
MAX_MARKS = 3  # combining marks kept after one character (Vietnamese needs 2; Hebrew points 3)
MAX_EXPANSION = 54  # output characters per input character, at most

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) that are not Cf; the Cf ones are found by category.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2065, 0x2065), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_MARK_CATEGORIES = ("Mn", "Mc", "Me")
# Planes with assigned format characters and marks (0-3 and 14); the rest are unassigned or private use.
_SCANNED = (range(0, 0x40000), range(0xE0000, 0xE1000))


def _char_class(code_points: list[int]) -> str:
    """A regex character class body for these code points, as ranges."""
    parts, start, previous = [], None, None
    for point in sorted(set(code_points)):
        if start is None:
            start = previous = point
        elif point == previous + 1:
            previous = point
        else:
            parts.append((start, previous))
            start = previous = point
    if start is not None:
        parts.append((start, previous))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in parts)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    """(invisible characters, combining marks past the MAX_MARKS-th), built once from this Python's Unicode data."""
    ignorable = [point for low, high in _IGNORABLE_RANGES for point in range(low, high + 1)]
    marks = []
    for block in _SCANNED:
        for point in block:
            category = unicodedata.category(chr(point))
            if category == "Cf":
                ignorable.append(point)
            elif category in _MARK_CATEGORIES:
                marks.append(point)
    marks = sorted(set(marks) - set(ignorable))  # variation selectors are Mn, and removed outright
    mark = f"[{_char_class(marks)}]"
    return re.compile(f"[{_char_class(ignorable)}]++"), re.compile(f"({mark}{{{MAX_MARKS}}}){mark}++")


def normalise_text(text: str, *, fold_case: bool = True) -> str:
    """The one form of `text`: NFKC, case folded, no invisible characters, no combining-mark storms.

    Idempotent, and the same for every canonical or compatibility form of a text. `fold_case=False` keeps the
    case (for the e-mail patterns that read "From:" or "-----Original Message-----" before the text is folded)."""
    if text.isascii():  # NFKC leaves ASCII alone, it has no format characters or marks, and folds as lower()
        return text.lower() if fold_case else text
    invisible, storm = _patterns()
    text = unicodedata.normalize("NFKD", text)
    if fold_case:
        text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text.casefold()).casefold())
    text = invisible.sub("", text)
    text = storm.sub(r"\1", text)
    return unicodedata.normalize("NFKC", text)


def check_version(version: object) -> int:
    """`version` as an int this code can apply; ValueError naming the versions it knows otherwise."""
    if isinstance(version, bool) or not isinstance(version, int) or version not in SUPPORTED:
        raise ValueError(f"text normalisation version {version!r} is unknown to this triage (it knows "
                         f"{', '.join(map(str, SUPPORTED))}; Unicode {unicodedata.unidata_version}, Python "
                         f"{sys.version.split()[0]})")
    return version
