"""The page tells the truth (issue 13): accuracy only from tickets a person confirmed or corrected, with n;
automation over write-backs that succeeded; language and tier filled; backlog and latency; refresh data.
On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from admin.backlog import duration, percentiles
from admin.dashboard import dashboard_data
from admin.segments import language_of, tier_of
from admin_seed import ADMIN_TOKEN, SECRET_SUBJECT
from classifier.ticket import Ticket
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import ReviewMessage, TicketRecord

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def rows_by_key(rows: list[dict]) -> dict:
    return {row["key"]: (row["judged"], row["right"]) for row in rows}


def test_accuracy_counts_only_tickets_a_person_confirmed_or_corrected(admin_app, seeded):
    accuracy = dashboard_data(admin_app.extensions["triage"], days=7)["accuracy"]
    # judged: an agent's re-routing (wrong), a reviewer's confirmation (right), a reviewer's correction (wrong);
    # the six auto-routed tickets nobody looked at are not evidence either way
    assert (accuracy["overall"]["judged"], accuracy["overall"]["right"]) == (3, 1)
    assert accuracy["unjudged_auto"] == 6
    assert rows_by_key(accuracy["category"]) == {"REFUND": (2, 0), "SHIPPING": (1, 1)}
    assert rows_by_key(accuracy["tier"]) == {"free": (2, 1), "gold": (1, 0)}
    # the agent-corrected ticket has no stored language: the one detected at classification counts
    assert rows_by_key(accuracy["language"]) == {"de": (1, 0), "en": (1, 1), "fr": (1, 0)}
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    assert '<span id="accuracy-overall">33%</span>' in page and "n = 3</span>" in page
    assert "6 auto-routed tickets nobody looked at are not counted" in page


def test_the_automation_rate_counts_only_routes_the_helpdesk_confirmed(admin_app, seeded):
    automation = dashboard_data(admin_app.extensions["triage"], days=7)["automation"]
    assert automation["total"] == 10 and automation["overall"] == 0.6  # 7 auto-routed, one write failed
    assert automation["auto"] == {"decided": 7, "done": 6, "failed": 1, "dropped": 0, "pending": 0, "dry_run": 0}
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    assert '<p class="big" id="automation-overall">60%</p>' in page
    assert "Not counted: automatic routes that failed (1) or are not yet written (0)." in page


def test_the_tier_comes_from_the_configured_source(make_app, store, seeded):
    accuracy = dashboard_data(make_app(triage_admin_token=ADMIN_TOKEN, triage_tier_source="requester_domain")
                              .extensions["triage"], days=7)["accuracy"]
    assert rows_by_key(accuracy["tier"]) == {"bigco.example": (1, 0), "small.example": (2, 1)}
    source = "tag:tier_"
    assert tier_of(source, organization="Acme", requester=None, tags=["vip", "tier_gold"], stored=None) == "gold"
    assert tier_of(source, organization="Acme", requester=None, tags=["vip"], stored="free") == "free"
    assert tier_of("organization", organization="Acme Ltd", requester="a@b.c", tags=[], stored="gold") == "Acme Ltd"
    assert tier_of("requester_domain", organization=None, requester="Kim@Big.Example", tags=[], stored=None) \
        == "big.example"
    assert tier_of("requester_domain", organization=None, requester="no address", tags=None, stored=None) \
        == "no requester domain"
    assert language_of(None, {"language": "pt"}) == "pt" and language_of("es", {"language": "pt"}) == "es"
    assert language_of(None, None) == "unknown"


def test_classifying_a_ticket_stores_the_language_it_was_written_in(make_app, store):
    runtime = make_app().extensions["triage"]
    texts = {"1": ("Ich möchte mein Geld zurück", "Die Bestellung ist kaputt angekommen und ich bin sehr "
                   "enttäuscht, bitte erstatten Sie mir den vollen Betrag so schnell wie möglich.", None),
             "2": ("Refund please", "The order arrived broken, I would like my money back as soon as possible.",
                   "fr")}  # the second: the helpdesk said French, and that is kept
    for external_id, (subject, body, language) in texts.items():
        event = InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=external_id,
                             ticket=Ticket(subject=subject, body=body, language=language),
                             idempotency_key=f"zendesk:ticket.created:{external_id}")
        with store.session() as session:
            delivery_id = inbox.record_delivery(session, event)[0]
        runtime.pipeline.process(delivery_id, "w1")
    with store.session() as session:
        languages = dict(session.execute(select(TicketRecord.external_id, TicketRecord.language)).all())
    assert languages == {"1": "de", "2": "fr"}


def test_the_backlog_and_latency_panel(admin_app, seeded):
    backlog = dashboard_data(admin_app.extensions["triage"], days=7)["backlog"]
    assert backlog["deliveries"] == {"received": 1, "classified": 0, "routed": 0, "review": 0}
    assert 2 * 3600 < backlog["oldest_delivery_seconds"] < 2 * 3600 + 600
    assert backlog["reviews"] == 1 and backlog["oldest_review_seconds"] < 3600
    # the last 24 h: the two newest tickets, 18 and 19 ms to predict, 9 and 10 s from webhook to done
    assert backlog["latency"]["prediction_ms"] == {"n": 2, "p50": 18.5, "p99": 19.0}
    assert backlog["latency"]["end_to_end_ms"] == {"n": 2, "p50": 9500.0, "p99": 9990.0}
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    panel = page.split('id="backlog"', 1)[1]
    assert 'id="backlog-oldest">2 h 0' in panel and "p50 18 ms · p99 19 ms" in panel
    assert "p50 9.5 s · p99 10.0 s" in panel
    assert percentiles([]) == {"n": 0, "p50": None, "p99": None}
    assert (duration(None), duration(42), duration(3 * 3600 + 300), duration(2 * 86400 + 3600)) == (
        "–", "42 s", "3 h 05 min", "2 d 1 h")


def test_data_json_gives_the_charts_and_every_part_for_the_refresh(admin_app, seeded, store):
    client = admin_app.test_client()
    first = client.get("/admin/data.json", headers=BEARER).get_json()
    assert set(first["sections"]) == {"notices", "automation-figures", "accuracy-figures", "backlog", "reviews",
                                      "failed", "models", "drift-table", "assignment", "audit"}
    assert SECRET_SUBJECT in first["sections"]["reviews"] and first["charts"]["accuracy"]["overall"]["judged"] == 3
    with store.session() as session:  # someone routes the waiting ticket in Slack meanwhile
        session.get(ReviewMessage, seeded["review_id"]).state = "resolved"
    second = client.get("/admin/data.json", headers=BEARER).get_json()
    assert SECRET_SUBJECT not in second["sections"]["reviews"] and 'id="no-reviews"' in second["sections"]["reviews"]
    assert client.get("/admin/data.json").status_code == 401


def test_a_huge_subject_is_shown_cut(admin_app, seeded, store):
    with store.session() as session:
        ticket = session.get(TicketRecord, seeded["review_ticket_id"])
        ticket.subject = "Ü" * 1_000_000
        ticket.received_at -= timedelta(seconds=1)
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    assert "Ü" * 199 + "…" in page and "Ü" * 200 not in page
    assert len(page) < 100_000
