"""The page acts (issue 13): route a waiting ticket as a Slack click would, retry or drop a dead letter.
Every form refuses a request without its CSRF token; ids no row can have are JSON 404s. Both stores."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from admin_seed import ADMIN_TOKEN, SECRET_SUBJECT
from classifier.ticket import Ticket
from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from slack_interactions import SIGNING_SECRET
from store.models import Correction, Delivery, ReviewMessage, TicketRecord, WriteBack
from polling import wait_until

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NO_SUCH_IDS = ["0", "-1", "007", "1.5", "abc", "%00", "99999999999999999999", "2147483648", "9" * 5000, "999"]


def logged_in(app):
    """A browser's client: the login cookie, and the CSRF token the page's forms carry."""
    client = app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    page = client.get("/admin").get_data(as_text=True)
    return client, page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def correction_write(store) -> WriteBack | None:
    with store.session() as session:
        return session.scalars(select(WriteBack).where(WriteBack.kind == "correction")).first()


def count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_routing_from_the_page_records_what_a_slack_click_records(admin_app, seeded, store):
    client, csrf = logged_in(admin_app)
    path = f"/admin/reviews/{seeded['review_id']}/route"
    assert client.post(path, data={"category": "REFUND"}).status_code == 403  # no CSRF token
    assert client.post(path, data={"category": "REFUND", "csrf": "forged"}).status_code == 403
    assert count(store, WriteBack) == 7
    response = client.post(path, data={"category": "REFUND", "csrf": csrf})
    assert response.status_code == 303 and f"routed={seeded['review_id']}" in response.headers["Location"]
    with store.session() as session:
        correction = session.scalars(select(Correction).order_by(Correction.id.desc())).first()
        assert (correction.source, correction.user, correction.from_category, correction.to_category,
                correction.model_version) == ("admin", "admin", "BILLING", "REFUND", "v-seeded")
        review = session.get(ReviewMessage, seeded["review_id"])
        assert (review.state, review.resolved_by) == ("resolved", "admin")
        ticket = session.get(TicketRecord, seeded["review_ticket_id"])
        assert (ticket.label, ticket.label_source) == ("REFUND", "slack")  # a reviewer's label, wherever clicked
    wait_until(lambda: correction_write(store).state == "done")  # pending, then written by the helpdesk adapter
    write = correction_write(store)
    assert write.route["category"] == "REFUND" and write.route["tags"] == ["triage_refund"] and write.dry_run
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zendesk ticket #108 routed to REFUND from this page. Dry run: nothing written to Zendesk" in page
    assert SECRET_SUBJECT not in page.split('id="reviews"', 1)[1].split("</section>", 1)[0]


def test_a_ticket_someone_already_routed_changes_nothing_and_says_who(admin_app, seeded, store):
    client, csrf = logged_in(admin_app)
    path = f"/admin/reviews/{seeded['review_id']}/route"
    first = client.post(path, data={"category": "SHIPPING"}, headers=BEARER).get_json()
    assert first["status"] == "routed" and first["category"] == "SHIPPING"
    again = client.post(path, data={"category": "REFUND", "csrf": csrf})
    assert again.status_code == 409
    assert "An admin on triage&#39;s admin page already routed this ticket to SHIPPING" in again.get_data(as_text=True)
    as_script = client.post(path, data={"category": "REFUND"}, headers=BEARER)
    assert as_script.status_code == 409 and as_script.get_json()["error"] == "already_routed"
    assert count(store, Correction) == 4 and count(store, WriteBack) == 8  # the seed's 3 and 7, plus one each


def test_leave_to_agents_and_a_category_the_ticket_cannot_have(admin_app, seeded, store):
    client = admin_app.test_client()
    path = f"/admin/reviews/{seeded['review_id']}/route"
    refused = client.post(path, data={"category": "NOT_A_CATEGORY"}, headers=BEARER)
    assert refused.status_code == 400 and refused.get_json()["error"] == "bad_category"
    assert client.post(path, data={}, headers=BEARER).status_code == 400
    left = client.post(path, data={"leave": "1", "category": "REFUND"}, headers=BEARER).get_json()
    assert left == {"status": "left", "review_id": seeded["review_id"], "category": None, "write_back_id": None}
    with store.session() as session:
        assert session.get(ReviewMessage, seeded["review_id"]).state == "left"
    assert count(store, Correction) == 3  # leaving it teaches nothing


@pytest.mark.parametrize("token, who", [(ADMIN_TOKEN, "An admin"), ("ana-token-0123456789", "ana")])
def test_a_route_from_the_page_updates_the_slack_message(make_app, store, seeded, fake_slack, token, who):
    from classifier.prediction import Prediction
    from integrations.slack.notifier import SlackReviewNotifier

    app = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens="ana:ana-token-0123456789",
                   slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                   slack_review_channel=REVIEW_CHANNEL, slack_api_url=fake_slack.url)
    settings = app.extensions["triage"].settings
    prediction = Prediction(category="BILLING", confidence=0.41, probabilities={"BILLING": 0.41, "REFUND": 0.35,
                            "SHIPPING": 0.24}, explanation=["invoice"], model_version="v-seeded")
    post = SlackReviewNotifier.from_settings(settings).post_review("108", "zendesk", Ticket(subject=SECRET_SUBJECT),
                                                                   prediction)
    with store.session() as session:
        review = session.get(ReviewMessage, seeded["review_id"])
        review.channel, review.ts = post.channel, post.ts
    response = app.test_client().post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "SHIPPING"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["status"] == "routed"
    update = fake_slack.wait_for("chat.update")[0].args
    assert (update["channel"], update["ts"]) == (REVIEW_CHANNEL, post.ts)
    assert f"routed to SHIPPING by {who if who == 'ana' else 'an admin'}" in update["text"]
    posted = fake_slack.messages[REVIEW_CHANNEL][0]
    assert not [b for b in posted["blocks"] if b["type"] == "actions"]  # the buttons are gone
    assert f"{who} routed this to *SHIPPING* on triage's admin page" in posted["blocks"][-1]["text"]["text"]
    wait_until(lambda: correction_write(store).state == "done")


def test_a_slack_failure_never_loses_the_route(make_app, store, seeded, fake_slack):
    app = make_app(triage_admin_token=ADMIN_TOKEN, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                   slack_review_channel=REVIEW_CHANNEL, slack_api_url=fake_slack.url)
    with store.session() as session:
        review = session.get(ReviewMessage, seeded["review_id"])
        review.channel, review.ts = REVIEW_CHANNEL, "1700000000.000100"
    fake_slack.fail("chat.update", 400, times=5, body={"ok": False, "error": "message_not_found"})
    response = app.test_client().post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND"},
                                      headers=BEARER)
    assert response.get_json()["status"] == "routed"
    wait_until(lambda: correction_write(store).state == "done")
    assert fake_slack.calls_to("chat.update")


def test_retry_and_drop_a_dead_letter(admin_app, seeded, store):
    client, csrf = logged_in(admin_app)
    failed_id = seeded["failed_id"]
    for action in ("retry", "drop"):
        assert client.post(f"/admin/deliveries/{failed_id}/{action}", data={"csrf": "x"}).status_code == 403
    response = client.post(f"/admin/deliveries/{failed_id}/drop", data={"csrf": csrf})
    assert response.status_code == 303 and f"dropped={failed_id}" in response.headers["Location"]
    with store.session() as session:
        delivery = session.get(Delivery, failed_id)
        assert (delivery.state, delivery.last_error) == ("dropped", "Unavailable: zendesk answered 503")
        assert delivery.finished_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # gone from the failed items (the seed's failed automatic route, written after its delivery finished, stays)
    assert f"Delivery {failed_id} was dropped" in page and f'id="failed-d{failed_id}"' not in page
    for action in ("retry", "drop"):  # neither applies to a delivery that is not failed any more
        again = client.post(f"/admin/deliveries/{failed_id}/{action}", headers=BEARER)
        assert again.status_code == 409 and again.get_json()["error"] == "not_failed"


@pytest.mark.parametrize("written_id", NO_SUCH_IDS, ids=lambda text: text[:24])
def test_ids_no_row_can_have_are_json_404s(admin_app, seeded, store, written_id):
    client = admin_app.test_client()
    for path in (f"/admin/deliveries/{written_id}/drop", f"/admin/reviews/{written_id}/route"):
        response = client.post(path, data={"category": "REFUND"}, headers=BEARER)
        assert response.status_code == 404, (path[:60], response.get_data()[:200])
        body = response.get_json()
        assert set(body) == {"error", "detail"} and body["error"] == "not_found" and len(body["detail"]) < 200
    assert count(store, Correction) == 3
    with store.session() as session:
        assert session.get(ReviewMessage, seeded["review_id"]).state == "open"
        assert session.get(Delivery, seeded["failed_id"]).state == "failed"


def test_a_slack_click_after_an_admin_route_is_told_an_admin_routed_it(admin_app, seeded, store):
    from config.routing import RoutingConfig
    from integrations.slack.clicks import ClickRecorder

    admin_app.test_client().post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND"},
                                 headers=BEARER)
    late = ClickRecorder(store, RoutingConfig(), helpdesks={}).click("zendesk", "108", "U0LATE", "SHIPPING")
    assert late.outcome == "already"
    assert late.detail.startswith("An admin on triage's admin page already routed this ticket to *REFUND* at ")
    assert count(store, Correction) == 4
