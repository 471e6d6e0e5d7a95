"""The review queue the admin page lists: open reviews only, with the model's guess and where they are."""
from __future__ import annotations

from integrations.review_queue import open_reviews
from slack_interactions import block_actions, post_interaction
from fake_slack import REVIEW_CHANNEL


def test_open_reviews_lists_waiting_tickets_and_drops_resolved_ones(store, seed_review, make_slack_app, fake_slack):
    first = seed_review("1")
    seed_review("2", top=("SHIPPING", "DELIVERY", "ORDER"))
    with store.session() as session:
        queue = open_reviews(session)
    assert [(r["external_id"], r["category"], r["posted"], r["channel"]) for r in queue] == [
        ("1", "REFUND", True, REVIEW_CHANNEL), ("2", "SHIPPING", True, REVIEW_CHANNEL)]
    post_interaction(make_slack_app().test_client(), block_actions(first, REVIEW_CHANNEL, "triage_leave"))
    fake_slack.wait_for("chat.update")
    with store.session() as session:
        assert [r["external_id"] for r in open_reviews(session)] == ["2"]
