"""Scenario tests for `POST /slack/events`: signed clicks against the fake Slack, on SQLite and PostgreSQL."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from fake_slack import REVIEW_CHANNEL
from slack_interactions import block_actions, post_interaction
from store.models import Correction, ReviewMessage, TicketRecord, WriteBack
from integrations.corrections import apply_pending_corrections
from polling import wait_until


def count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_without_slack_settings_the_endpoint_answers_not_configured(store):
    from flask import Flask

    from webhooks.http_errors import install_error_handlers
    from config.validation import load_settings
    from webhooks import slack_events as web

    app = Flask(__name__)
    install_error_handlers(app)
    web.init_app(app, type("Runtime", (), {"settings": load_settings({"database_url": store.url}, env_file=None)}))
    response = app.test_client().post("/slack/events", data="payload=%7B%7D")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_configured"


def test_a_click_routes_the_ticket_records_the_correction_and_updates_the_message(make_slack_app, seed_review,
                                                                                      fake_slack, store, helpdesk):
    message = seed_review()
    client = make_slack_app().test_client()
    started = time.monotonic()
    response = post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_2"))
    assert response.status_code == 200 and time.monotonic() - started < 3
    update = fake_slack.wait_for("chat.update")[0].args
    assert (update["channel"], update["ts"]) == (REVIEW_CHANNEL, message["ts"])
    assert "actions" not in [b["type"] for b in update["blocks"]]
    assert update["blocks"][-1]["text"]["text"] == ":white_check_mark: <@U0ALICE> routed this to *ORDER*."
    wait_until(lambda: helpdesk.applied, timeout=5.0)
    assert [(t, r.category, r.tags) for t, r in helpdesk.applied] == [("42", "ORDER", ["triage_order"])]
    with store.session() as session:
        correction = session.scalar(select(Correction))
        assert (correction.source, correction.user, correction.from_category, correction.to_category,
                correction.model_version) == ("slack", "U0ALICE", "REFUND", "ORDER", "test-1")
        assert correction.created_at is not None
        review = session.scalar(select(ReviewMessage))
        assert (review.state, review.resolved_by) == ("resolved", "U0ALICE")
        assert (session.scalar(select(TicketRecord)).label, session.scalar(select(TicketRecord)).label_source) == (
            "ORDER", "slack")
    wait_until(lambda: _write_back(store).state == "done", timeout=5.0)
    assert (_write_back(store).kind, _write_back(store).attempts) == ("correction", 1)
    assert fake_slack.calls_to("chat.postEphemeral") == []


def test_the_select_menu_routes_to_any_category(make_slack_app, seed_review, fake_slack, helpdesk):
    message = seed_review()
    payload = block_actions(message, REVIEW_CHANNEL, "triage_route_menu", option="SHIPPING")
    assert post_interaction(make_slack_app().test_client(), payload).status_code == 200
    fake_slack.wait_for("chat.update")
    wait_until(lambda: helpdesk.applied, timeout=5.0)
    assert helpdesk.applied[0][1].category == "SHIPPING"


def test_a_bad_signature_is_refused_with_401_and_changes_nothing(make_slack_app, seed_review, fake_slack, store):
    message = seed_review()
    client = make_slack_app().test_client()
    calls_before = len(fake_slack.calls)
    payload = block_actions(message, REVIEW_CHANNEL, "triage_route_1")
    assert post_interaction(client, payload, secret="not-the-secret").status_code == 401
    assert post_interaction(client, payload, timestamp=int(time.time()) - 3600).status_code == 401  # replayed
    time.sleep(0.3)
    assert len(fake_slack.calls) == calls_before
    assert count(store, Correction) == 0 and count(store, WriteBack) == 0


def test_a_second_click_changes_nothing_and_tells_the_clicker_who_routed_it(make_slack_app, seed_review, fake_slack,
                                                                            store, helpdesk):
    message = seed_review()
    client = make_slack_app().test_client()
    post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_1", user="U0ALICE"))
    fake_slack.wait_for("chat.update")
    post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_3", user="U0BOB"))
    ephemeral = fake_slack.wait_for("chat.postEphemeral")[0].args
    assert ephemeral["user"] == "U0BOB" and ephemeral["channel"] == REVIEW_CHANNEL
    assert ephemeral["text"].startswith("<@U0ALICE> already routed this ticket to *REFUND*")
    wait_until(lambda: helpdesk.applied, timeout=5.0)
    time.sleep(0.2)
    assert len(fake_slack.calls_to("chat.update")) == 1 and len(helpdesk.applied) == 1
    assert count(store, Correction) == 1


def test_an_unauthorised_user_is_refused_and_nothing_changes(make_slack_app, seed_review, fake_slack, store):
    message = seed_review()
    client = make_slack_app(slack_reviewers="U0ALICE,S0REVIEWERS").test_client()
    fake_slack.user_groups["S0REVIEWERS"] = ["U0CAROL"]
    post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_1", user="U0MALLORY"))
    refusal = fake_slack.wait_for("chat.postEphemeral")[0].args
    assert refusal["user"] == "U0MALLORY" and "SLACK_REVIEWERS" in refusal["text"]
    assert fake_slack.calls_to("chat.update") == [] and count(store, Correction) == 0
    with store.session() as session:
        assert session.scalar(select(ReviewMessage)).state == "open"
    post_interaction(client, block_actions(message, REVIEW_CHANNEL, "triage_route_1", user="U0CAROL"))  # in the group
    fake_slack.wait_for("chat.update")
    assert count(store, Correction) == 1


def test_leave_it_to_agents_resolves_the_message_without_a_correction(make_slack_app, seed_review, fake_slack, store,
                                                                      helpdesk):
    message = seed_review()
    post_interaction(make_slack_app().test_client(), block_actions(message, REVIEW_CHANNEL, "triage_leave"))
    update = fake_slack.wait_for("chat.update")[0].args
    assert update["blocks"][-1]["text"]["text"] == ":raising_hand: <@U0ALICE> left this to the agents."
    with store.session() as session:
        assert session.scalar(select(ReviewMessage)).state == "left"
    assert count(store, Correction) == 0 and count(store, WriteBack) == 0 and helpdesk.applied == []


def test_a_ticket_an_agent_already_routed_in_the_helpdesk_is_left_alone(make_slack_app, seed_review, fake_slack,
                                                                        store, helpdesk):
    message = seed_review()
    helpdesk.agent = "Dana (agent)"
    post_interaction(make_slack_app().test_client(), block_actions(message, REVIEW_CHANNEL, "triage_route_1"))
    text = fake_slack.wait_for("chat.postEphemeral")[0].args["text"]
    assert text.startswith("Dana (agent) already routed this ticket in Zendesk")
    assert count(store, Correction) == 0 and fake_slack.calls_to("chat.update") == []


def test_the_click_is_acknowledged_while_the_helpdesk_is_slow(make_slack_app, seed_review, fake_slack, helpdesk):
    import threading

    message = seed_review()
    helpdesk.gate = threading.Event()  # apply() blocks until released
    started = time.monotonic()
    response = post_interaction(make_slack_app().test_client(), block_actions(message, REVIEW_CHANNEL,
                                                                              "triage_route_1"))
    assert response.status_code == 200 and time.monotonic() - started < 3  # the write waits 10 s
    fake_slack.wait_for("chat.update")
    assert helpdesk.applied == []
    helpdesk.gate.set()
    wait_until(lambda: helpdesk.applied, timeout=5.0)


def test_closing_waits_for_a_click_still_writing_to_the_helpdesk(make_slack_app, seed_review, fake_slack, helpdesk):
    import threading

    message = seed_review()
    helpdesk.gate = threading.Event()
    app = make_slack_app()
    assert post_interaction(app.test_client(), block_actions(message, REVIEW_CHANNEL, "triage_route_1")).status_code \
        == 200
    fake_slack.wait_for("chat.update")  # the click is being handled: its write waits behind the gate
    threading.Timer(0.5, helpdesk.gate.set).start()
    assert app.extensions["test_runtime"].background.close(timeout=10) is True
    assert [external_id for external_id, _ in helpdesk.applied] == ["42"]  # written before close returned


def test_a_correction_stays_pending_while_the_helpdesk_is_down_and_is_written_later(make_slack_app, seed_review,
                                                                                      fake_slack, store, helpdesk):
    message = seed_review()
    helpdesk.failures = 1
    post_interaction(make_slack_app().test_client(), block_actions(message, REVIEW_CHANNEL, "triage_route_1"))
    fake_slack.wait_for("chat.update")
    wait_until(lambda: _write_back(store) is not None and _write_back(store).last_error is not None, timeout=5.0)
    action = _write_back(store)
    # an outage: pending and later, without spending one of the correction's attempts
    assert (action.state, action.attempts, action.last_error) == ("pending", 0, "ConnectionError: helpdesk down")
    assert apply_pending_corrections(store, {"zendesk": helpdesk}) == 0  # not due yet: backoff
    with store.session() as session:
        from store.types import utcnow
        session.get(WriteBack, action.id).next_try_at = utcnow()
    assert apply_pending_corrections(store, {"zendesk": helpdesk}) == 1  # what the clock's sweep runs
    assert _write_back(store).state == "done" and len(helpdesk.applied) == 1


def _write_back(store) -> WriteBack | None:
    with store.session() as session:
        return session.scalar(select(WriteBack))


@pytest.mark.parametrize("status", [429, 500])
def test_a_click_is_still_recorded_when_slack_fails_to_update_the_message(make_slack_app, seed_review, fake_slack,
                                                                          store, helpdesk, status):
    message = seed_review()
    fake_slack.fail("chat.update", status, times=5, headers={"Retry-After": "0"} if status == 429 else None)
    post_interaction(make_slack_app().test_client(), block_actions(message, REVIEW_CHANNEL, "triage_route_1"))
    wait_until(lambda: helpdesk.applied, timeout=10)
    assert len(fake_slack.calls_to("chat.update")) == 3  # tried with backoff, then given up (logged)
    assert count(store, Correction) == 1
