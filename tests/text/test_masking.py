"""Slack rendering of hostile text: `mask`, `excerpt` and `review_message` stay linear and still mask."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from classifier.limits import CUT_MARK, MAX_BODY_CHARS, MAX_SUBJECT_CHARS, head_of_whole_words
from classifier.prediction import Prediction
from classifier.ticket import Ticket
from pathological import ORDINARY_BODY, ORDINARY_SUBJECT, hostile_texts
from integrations.slack.messages import EXCERPT_CHARS, HEADER_CHARS, excerpt, mask, review_message

HOSTILE = hostile_texts()
SETTINGS = SimpleNamespace(zendesk_api_url=None, zendesk_subdomain="acme", freshdesk_api_url=None,
                           freshdesk_domain=None)
PREDICTION = Prediction(category="REFUND", confidence=0.5, probabilities={"REFUND": 0.5, "ORDER": 0.5},
                        explanation=["refund"], model_version="m1")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_masking_a_megabyte_of_hostile_text_finishes(name):
    text = HOSTILE[name]
    assert len(mask(text)) < 2 * len(text)  # "[email]" may be longer than what it replaces


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_the_review_message_of_a_hostile_ticket_is_built_and_bounded(name):
    ticket = Ticket(subject=HOSTILE[name], body=HOSTILE[name])
    message = review_message("42", "zendesk", ticket, PREDICTION, SETTINGS)
    header, body = message["blocks"][0]["text"]["text"], message["blocks"][1]["text"]["text"]
    assert len(header) <= HEADER_CHARS and len(body) <= EXCERPT_CHARS
    assert len(excerpt(HOSTILE[name])) <= EXCERPT_CHARS


def test_an_ordinary_ticket_is_rendered_as_before():
    message = review_message("42", "zendesk", Ticket(subject=ORDINARY_SUBJECT, body=ORDINARY_BODY), PREDICTION,
                             SETTINGS)
    assert message["blocks"][0]["text"]["text"] == ORDINARY_SUBJECT
    assert message["blocks"][1]["text"]["text"] == (
        "Hello, I ordered a lamp last week and it arrived broken. I would like my money back, please. "
        "You can reach me at [email] or [phone]. Thanks, Jane")


def test_an_address_after_a_megabyte_word_is_masked():
    assert mask("a" * 1_000_000 + " jane@example.com").endswith(" [email]")
    assert mask("a." * 500_000 + " +44 20 7946 0958").endswith(" [phone]")


@pytest.mark.parametrize("tail", ["jane.doe@exam", "+44 20 79", "(555) 12"])
def test_a_cut_never_shows_half_an_address_or_a_number(tail):
    """Blank space fills the cap, so what is left of the cut shows in the excerpt: it must not be half of one."""
    body = " " * (MAX_BODY_CHARS - len(tail) - 3) + "hi " + tail + "ple.com 0958 4567 more"
    shown = excerpt(body)
    assert shown == f"hi {CUT_MARK}"
    subject = " " * (MAX_SUBJECT_CHARS - len(tail) - 3) + "hi " + tail + "ple.com 0958"
    header = review_message("42", "zendesk", Ticket(subject=subject), PREDICTION, SETTINGS)["blocks"][0]
    assert header["text"]["text"] == f"hi {CUT_MARK}"


def test_the_caps_apply_and_whole_words_are_kept():
    assert head_of_whole_words("short", 10) == "short"
    assert head_of_whole_words("one two three", 9) == f"one two {CUT_MARK}"  # "three" was split: dropped
    assert head_of_whole_words("one two three", 7) == f"one two {CUT_MARK}"  # the cut fell on a space
    assert head_of_whole_words("x" * 100, 10) == CUT_MARK
