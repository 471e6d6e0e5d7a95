"""A Slack click leaves an audit entry naming the Slack user (issue 21), in the click's own transaction; a second
click that changes nothing leaves none. Both stores."""
from __future__ import annotations

from fake_slack import REVIEW_CHANNEL
from polling import wait_until
from slack_interactions import block_actions, post_interaction
from store import audit


def trail(store) -> list[tuple]:
    with store.session() as session:
        return [(e.actor, e.action, e.target, e.before, e.after, e.source) for e in audit.entries(session)]


def test_a_slack_click_is_audited_with_the_slack_user(make_slack_app, seed_review, fake_slack, store, helpdesk):
    message = seed_review()
    client = make_slack_app().test_client()
    assert post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_2", user="U0ALICE")
                            ).status_code == 200
    wait_until(lambda: trail(store), timeout=5.0)
    [(actor, action, target, before, after, source)] = trail(store)
    assert (actor, action, target, source) == ("U0ALICE", "correction", "zendesk:42", "slack")
    assert before == {"review": "open", "category": "REFUND"}
    assert after == {"review": "resolved", "category": "ORDER"}
    fake_slack.wait_for("chat.update")
    post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_3", user="U0BOB"))
    fake_slack.wait_for("chat.postEphemeral")  # Bob is told Alice did it; nothing changed, nothing recorded
    assert len(trail(store)) == 1
