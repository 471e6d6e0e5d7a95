"""Review message building: masking, the excerpt, the helpdesk link, and the Block Kit the reviewer sees."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from classifier.prediction import Prediction
from classifier.ticket import Ticket
from integrations.slack.messages import (ACTION_LEAVE, ACTION_ROUTE_MENU, EXCERPT_CHARS, excerpt, mask,
                                         parse_block_id, resolved_message, review_message, routed_outcome,
                                         ticket_url)

CATEGORIES = ["ACCOUNT", "CANCELLATION_FEE", "CONTACT", "DELIVERY", "FEEDBACK", "INVOICE", "NEWSLETTER", "ORDER",
              "PAYMENT", "REFUND", "SHIPPING"]


def settings(**more):
    base = dict(zendesk_api_url=None, zendesk_subdomain="acme", freshdesk_api_url=None, freshdesk_domain="acmehelp")
    return SimpleNamespace(**{**base, **more})


def prediction(top=("REFUND", "ORDER", "PAYMENT")):
    probabilities = {c: 0.01 for c in CATEGORIES}
    for c, p in zip(top, (0.45, 0.3, 0.14)):
        probabilities[c] = p
    return Prediction(category=top[0], confidence=0.45, probabilities=probabilities,
                      explanation=["refund", "money back", "broken"], model_version="starter-1")


@pytest.mark.parametrize("text, expected", [
    ("write to jane.doe+shop@example.co.uk please", "write to [email] please"),
    ("call +44 20 7946 0958 today", "call [phone] today"),
    ("call (555) 123-4567 or 555.123.4567", "call [phone] or [phone]"),
    ("my number is 0151234567890", "my number is [phone]"),
    ("order 12345 of 2024-05-01, 3 items", "order 12345 of 2024-05-01, 3 items"),
    # the linear EMAIL pattern (issue 12) still finds what the old one did
    ("mail a.b+c@example.co.uk.", "mail [email]."),
    ("two glued: a@b.com+c@d.org and x@y.io..z@w.io", "two glued: [email] and [email]"),
    ("<jane@example.com>, (bob_smith@mail.example.org)", "<[email]>, ([email])"),
    ("not an address: a@b, a@@b.c, @example.com", "not an address: a@b, a@@b.c, @example.com"),
])
def test_mask_hides_email_addresses_and_phone_numbers_but_not_short_numbers(text, expected):
    assert mask(text) == expected


def test_the_excerpt_is_masked_before_it_is_cut_and_never_longer_than_500():
    body = "x" * 490 + " reach me at somebody.with.a.long.name@example.com"
    cut = excerpt(body)
    assert len(cut) <= EXCERPT_CHARS and cut.endswith("…")
    assert "@" not in cut and "somebody" not in cut


@given(st.text(max_size=2000))
def test_the_excerpt_is_at_most_500_characters_for_any_text(body):
    assert len(excerpt(body)) <= EXCERPT_CHARS


@pytest.mark.parametrize("helpdesk, more, expected", [
    ("zendesk", {}, "https://acme.zendesk.com/agent/tickets/42"),
    ("zendesk", {"zendesk_api_url": "http://127.0.0.1:9999/"}, "http://127.0.0.1:9999/agent/tickets/42"),
    ("freshdesk", {}, "https://acmehelp.freshdesk.com/a/tickets/42"),
    ("freshdesk", {"freshdesk_domain": "help.acme.com"}, "https://help.acme.com/a/tickets/42"),
    ("freshdesk", {"freshdesk_domain": None}, None),
])
def test_ticket_links_point_at_the_agent_view(helpdesk, more, expected):
    assert ticket_url(helpdesk, "42", settings(**more)) == expected


def test_the_review_message_has_everything_a_reviewer_needs():
    ticket = Ticket(subject="Refund for jane@example.com", body="Order arrived <!channel> broken, call 555-123-4567")
    message = review_message("42", "zendesk", ticket, prediction(), settings())
    header, body, summary, context, actions = message["blocks"]
    assert header["text"]["text"] == "Refund for [email]"
    assert body["text"] == {"type": "plain_text", "text": "Order arrived <!channel> broken, call [phone]",
                            "emoji": False}  # plain text: no mention can fire
    assert "<https://acme.zendesk.com/agent/tickets/42|Zendesk ticket #42>" in summary["text"]["text"]
    assert "*REFUND* 45%   *ORDER* 30%   *PAYMENT* 14%" in summary["text"]["text"]
    assert "refund, money back, broken" in context["elements"][0]["text"]
    buttons = [e for e in actions["elements"] if e["type"] == "button"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("triage_route_1", "REFUND"), ("triage_route_2", "ORDER"), ("triage_route_3", "PAYMENT"),
        (ACTION_LEAVE, "leave")]
    menu = next(e for e in actions["elements"] if e["type"] == "static_select")
    assert menu["action_id"] == ACTION_ROUTE_MENU
    assert [o["value"] for o in menu["options"]] == CATEGORIES
    assert parse_block_id(actions["block_id"]) == ("zendesk", "42")
    assert message["metadata"] == {"event_type": "triage_review",
                                   "event_payload": {"helpdesk": "zendesk", "external_id": "42"}}
    assert "jane@example.com" not in str(message)


def test_the_resolved_message_keeps_the_ticket_and_drops_the_buttons():
    posted = review_message("42", "zendesk", Ticket(subject="s", body="b"), prediction(), settings())
    updated = resolved_message(posted["blocks"], "routed", routed_outcome("U1", "ORDER"))
    assert [b["type"] for b in updated["blocks"]] == ["header", "section", "section", "context", "section"]
    assert updated["blocks"][-1]["text"]["text"] == ":white_check_mark: <@U1> routed this to *ORDER*."


@pytest.mark.parametrize("block_id", ["other", "triage_review:zendesk", "triage_review::1", "x:zendesk:1"])
def test_foreign_block_ids_are_refused(block_id):
    with pytest.raises(ValueError):
        parse_block_id(block_id)
