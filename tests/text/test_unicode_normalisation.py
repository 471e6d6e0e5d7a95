"""One text whatever its Unicode form (issue 20): `classifier.normalisation.normalise_text` and the cleaning it feeds.
"""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.features import prepare
from classifier.drift_profile import words
from classifier.limits import MAX_CLEAN_CHARS
from classifier.normalisation import MAX_EXPANSION, MAX_MARKS, VERSION, check_version, normalise_text
from classifier.text import normalise
from classifier.ticket import Ticket

FORMS = ("NFC", "NFD", "NFKC", "NFKD")
MARKS = ("Mn", "Mc", "Me")
BIDI_AND_INVISIBLE = ("\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width, word joiner, BOM, soft hyphen
                      "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # bidi marks, embeddings, isolates
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True)

# Random Unicode, and text dense in what this is about: marks, format characters, compatibility forms, cased letters.
any_text = st.text(max_size=200)
dense_text = st.text(st.one_of(
    st.characters(categories=["Mn", "Mc", "Me", "Cf", "Lu", "Ll", "Lt", "Lo", "Zs", "Nd", "No"]),
    st.sampled_from(list(BIDI_AND_INVISIBLE) + ["\ufb01", "\uff32", "\u1e9e", "\u0130", "\u03a3", "\u1f88",
                                                "\ufdfa", "\u2460", "\u00df", "\u0345", "\u034f", "\ufe0f",
                                                "\u3164", "\uffa0", "\U000e0041"])), max_size=120)
texts = st.one_of(any_text, dense_text)


def invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in "\u034f\u115f\u1160\u3164\uffa0" \
        or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"


def longest_mark_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char) in MARKS else 0
        longest = max(longest, run)
    return longest


@PROPERTY
@given(texts)
def test_normalising_twice_changes_nothing(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    kept_case = normalise_text(text, fold_case=False)
    assert normalise_text(kept_case, fold_case=False) == kept_case


@PROPERTY
@given(texts)
def test_every_normalisation_form_of_a_text_is_one_text(text):
    expected = normalise_text(text)
    for form in FORMS:
        assert normalise_text(unicodedata.normalize(form, text)) == expected, form
    assert normalise_text(unicodedata.normalize("NFKC", text).casefold()) == expected


@PROPERTY
@given(texts, st.data())
def test_invisible_characters_anywhere_change_nothing(text, data):
    laced = list(unicodedata.normalize(data.draw(st.sampled_from(FORMS)), text))
    for _ in range(data.draw(st.integers(0, 10))):
        at = data.draw(st.integers(0, len(laced)))
        laced.insert(at, data.draw(st.sampled_from(BIDI_AND_INVISIBLE)))
    assert normalise_text("".join(laced)) == normalise_text(text)


@PROPERTY
@given(texts)
def test_the_output_is_nfkc_folded_visible_and_bounded(text):
    result = normalise_text(text)
    assert unicodedata.is_normalized("NFKC", result)
    assert not any(invisible(char) for char in result)
    assert longest_mark_run(result) <= MAX_MARKS
    assert len(result) <= MAX_EXPANSION * len(text)


@PROPERTY
@given(texts, st.data())
def test_ticket_cleaning_reads_every_form_of_a_text_as_one(text, data):
    """What the models read (version 1): the same for each form, folded, with no invisible characters."""
    cleaned = normalise(text, "example.com")
    variant = unicodedata.normalize(data.draw(st.sampled_from(FORMS)), text)
    assert normalise(variant, "example.com") == cleaned
    assert not any(invisible(char) for char in cleaned)
    assert normalise_text(cleaned) == cleaned


@pytest.mark.parametrize("variant", [
    "\uff32\uff45\uff46\uff55\uff4e\uff44",  # full-width
    "REFUND", "Re\u200bfund", "Re\u00adfu\u2060nd", "\u202eRefund\u202c", "\u2067Refund\u2069", "\ufeffRefund",
    "\U000e0052efund",  # a tag character (invisible "ASCII smuggling") before the word
])
def test_known_disguises_of_a_word_are_the_word(variant):
    assert normalise_text(variant).strip("\U000e0052") in {"refund", "efund"}


def test_accents_survive_and_case_folds_fully():
    nfd = unicodedata.normalize("NFD", "Grüße aus Köln, Straße")
    assert normalise_text(nfd) == "grüsse aus köln, strasse"
    assert normalise_text("\ufb01le \u2460 \u00bd") == "file 1 1\u20442"
    assert normalise_text("Ti\u1ec1n") == "ti\u1ec1n"  # Vietnamese: two marks on one letter are kept


def test_a_combining_mark_storm_keeps_the_first_marks_only():
    storm = "Z" + "\u0300\u0301\u0302\u0303" * 500 + "algo"
    assert normalise_text(storm) == unicodedata.normalize("NFC", "z\u0300\u0301\u0302algo")
    below_and_above = "Z" + "\u0351\u0353" * 500  # canonical order first (below, then above), so any form cuts alike
    assert normalise_text(below_and_above) == unicodedata.normalize("NFC", "z\u0353\u0353\u0353")


def test_the_cleaned_ticket_keeps_case_for_the_email_patterns_then_folds():
    """The sign-off and reply patterns read the text before folding: an NFD, zero-width-laced sign-off is cut."""
    body = "Mein Paket ist nicht angekommen.\n\nMit freundlichen Gr\u00fc\u00dfen,\nJana"
    laced = unicodedata.normalize("NFD", body).replace("freundlichen", "freund\u200blichen")
    assert normalise(laced) == normalise(body) == "mein paket ist nicht angekommen."
    assert normalise(body, None, 0) == "Mein Paket ist nicht angekommen."  # version 0: as before


def test_html_entities_are_normalised_after_decoding():
    assert normalise("<p>Re&shy;fund&#8203; please&nbsp;now</p>") == normalise("Refund please now")


def test_prepare_applies_the_version_it_is_given():
    ticket = Ticket(subject="\uff32\uff45\uff46\uff55\uff4e\uff44", body="Caf\u0065\u0301 \u200bbill")
    assert prepare([ticket], "UTC").texts == ["refund\ncafé bill"]
    assert prepare([ticket], "UTC", 0).texts == [normalise(ticket.text, None, 0)]
    assert prepare([ticket], "UTC", 0).texts != prepare([ticket], "UTC", VERSION).texts


def test_drift_words_are_read_in_the_one_form():
    assert words(unicodedata.normalize("NFD", "Rückerstattung bitte")) == words("R\u00fcckerstattung bitte") \
        == words("\uff32\u00fcckerstattung B\u200bitte") == {"rückerstattung", "bitte"}


def test_only_known_versions_are_applied():
    assert check_version(0) == 0 and check_version(VERSION) == VERSION
    for unknown in (VERSION + 1, -1, "1", True, None):
        with pytest.raises(ValueError, match="text normalisation version"):
            check_version(unknown)


UNICODE_HOSTILE = {
    "mark storm": "a" + "\u0301" * 1_000_000,
    "mark pairs": "\u0301\u0300" * 500_000,
    "marks between letters": "a\u0301\u0300\u0302" * 250_000,
    "zero-width run": "\u200b" * 1_000_000,
    "bidi soup": "\u202e\u2066x\u2069\u202c" * 200_000,
    "compatibility expansion": "\ufdfa" * 1_000_000,  # 18 characters each under NFKC
    "nfd letters": "e\u0301" * 500_000,
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", UNICODE_HOSTILE)
def test_ticket_cleaning_of_a_megabyte_of_hostile_unicode_is_capped(name):
    text = UNICODE_HOSTILE[name]
    assert len(normalise(text, "example.com")) <= MAX_CLEAN_CHARS
    assert isinstance(words(text), set)
    assert len(normalise_text(text[:50_000])) <= MAX_EXPANSION * 50_000
