"""The drift panel's signals: each statistic of a real drift check, its learned alarm, whether it fired and a
sentence on what it means, on the page and in the data.json refresh, with nothing inline."""
from __future__ import annotations

import html
import random
from datetime import timedelta

from admin_seed import ADMIN_TOKEN
from classifier.drift_reference import sketch
from learning.drift import check
from store.models import Correction, PredictionRecord, TicketRecord
from store.types import utcnow

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CATEGORIES = ("BILLING", "REFUND", "SHIPPING")


def reference() -> dict:
    """A training reference: held-out tickets with about 2% unknown words, confidence around 0.85."""
    rng = random.Random(1)
    rows = [{"category": CATEGORIES[i % 3], "confidence": rng.uniform(0.7, 1.0),
             "oov_share": rng.choice((0.0, 0.0, 0.0, 0.05, 0.1))} for i in range(600)]
    return {"n": 600, "sketch": sketch(rows)}


def store_window(store, coverage: float, n: int = 120) -> None:
    """n predictions of the last day whose tickets' words the model knew `coverage` of."""
    rng = random.Random(2)
    when = utcnow() - timedelta(hours=3)
    with store.session() as session:
        for i in range(n):
            ticket = TicketRecord(helpdesk="zendesk", external_id=f"w{i}", subject="s", body="b", received_at=when)
            session.add(ticket)
            session.flush()
            session.add(PredictionRecord(ticket_id=ticket.id, model_version="v-new", category=CATEGORIES[i % 3],
                                         confidence=rng.uniform(0.7, 1.0), probabilities={}, decision="auto",
                                         threshold=0.7, created_at=when,
                                         derived={"language": "en", "vocabulary_coverage": coverage}))


def test_the_panel_shows_each_signal_its_alarm_and_what_a_fired_one_means(make_app, store):
    store_window(store, coverage=0.6)
    with store.session() as session:
        rows = check(session, reference(), "v-new", utcnow())
    oov = next(r for r in rows if r.metric == "oov_share")
    assert oov.detail["fired"] and oov.value == 0.4
    sentence = (f"40.0% of the words in this week's tickets were never seen in training (normal: up to "
                f"{oov.detail['threshold']:.1%}): tickets about something new are arriving; review them and retrain.")
    client = make_app(triage_admin_token=ADMIN_TOKEN).test_client()
    page = html.unescape(client.get("/admin", headers=BEARER).get_data(as_text=True))
    signals = page.split('id="drift-signals"', 1)[1].split("</table>", 1)[0]
    assert sentence in signals
    assert "words never seen in training" in signals and "predicted-category mix" in signals
    assert "Average confidence" in signals and "is normal" in signals  # quiet signals say so too
    assert "held-out tickets" in page.split('id="drift"', 1)[1]
    assert "<script>" not in page and " style=" not in page
    refreshed = client.get("/admin/data.json", headers=BEARER).get_json()["sections"]["drift-table"]
    assert sentence in html.unescape(refreshed) and 'id="drift-signals"' in refreshed


def test_a_quiet_window_shows_no_fired_signal(make_app, store):
    store_window(store, coverage=0.97)
    with store.session() as session:
        check(session, reference(), "v-new", utcnow())
    page = make_app(triage_admin_token=ADMIN_TOKEN).test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    signals = page.split('id="drift-signals"', 1)[1].split("<tbody>", 1)[1].split("</table>", 1)[0]
    assert ">fired<" not in signals and signals.count(">quiet<") == 3


def small_week(store) -> None:
    """The operator's first week: 12 tickets (10 auto-routed, 2 reviewed), three of them labelled by a person:
    a reviewer confirmed one and corrected one, an agent re-routed one auto-route."""
    when = utcnow() - timedelta(hours=3)
    labels = {10: ("slack", "BILLING"), 11: ("slack", "SHIPPING"), 3: ("helpdesk", "SHIPPING")}
    with store.session() as session:
        for i in range(12):
            category = "BILLING" if i >= 10 else CATEGORIES[i % 3]
            source, label = labels.get(i, (None, None))
            ticket = TicketRecord(helpdesk="zendesk", external_id=f"s{i}", subject="s", body="b", received_at=when,
                                  label=label, label_source=source)
            session.add(ticket)
            session.flush()
            session.add(PredictionRecord(ticket_id=ticket.id, model_version="v-new", category=category,
                                         confidence=0.9 if i < 10 else 0.5, probabilities={},
                                         decision="auto" if i < 10 else "review", threshold=0.7, created_at=when,
                                         derived={"language": "en", "vocabulary_coverage": 0.95}))
            if label:
                session.add(Correction(ticket_id=ticket.id, source=source, user="U1", from_category=category,
                                       to_category=label, created_at=when + timedelta(minutes=5)))


def test_a_week_too_small_for_the_signals_still_shows_their_table_and_why(make_app, store):
    """Issue 21, failure 5: with a drift reference and 12 tickets the signal table was missing altogether."""
    small_week(store)
    with store.session() as session:
        rows = check(session, reference(), "v-new", utcnow())
    assert not [r for r in rows if "fired" in r.detail]  # too few tickets: the check computes no signal
    page = html.unescape(make_app(triage_admin_token=ADMIN_TOKEN).test_client().get("/admin", headers=BEARER)
                         .get_data(as_text=True))
    drift = page.split('id="drift"', 1)[1]
    assert drift.index('id="drift-signals"') < drift.index('id="drift-latest"')  # the first table is the signals'
    body = drift.split('id="drift-signals"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == 4 and body.count(">not checked<") == 4
    for label in ("words never seen in training", "average confidence", "predicted-category mix",
                  "distance from the learned categories"):
        assert label in body
    assert "12 tickets in this week's window; a signal needs at least 20" in body


def test_the_panel_says_how_its_accuracy_differs_from_the_cards_with_both_counts(make_app, store):
    small_week(store)
    with store.session() as session:
        check(session, reference(), "v-new", utcnow())
    page = html.unescape(make_app(triage_admin_token=ADMIN_TOKEN).test_client().get("/admin", headers=BEARER)
                         .get_data(as_text=True))
    # the check: 10 auto-routes (one re-routed: wrong) and 2 reviewed (one corrected): 10 of 12 right
    assert '<span id="accuracy-overall">33%</span>' in page.replace("\n", "")  # the card: 1 of the 3 a person judged
    note = page.split('id="drift-accuracy-note">', 1)[1].split("</p>", 1)[0]
    assert "(0.833, n = 12, last 7 days)" in note and "(33%, n = 3, last 30 days)" in note
    assert "auto-routed ticket nobody re-routed as right" in note and "only tickets a person confirmed" in note


def test_a_signal_the_model_cannot_measure_says_so(make_app, store):
    store_window(store, coverage=0.97)
    with store.session() as session:
        check(session, reference(), "v-new", utcnow())  # the reference has no embedding distances
    page = make_app(triage_admin_token=ADMIN_TOKEN).test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    signals = page.split('id="drift-signals"', 1)[1].split("</table>", 1)[0]
    row = signals.split("distance from the learned categories", 1)[1].split("</tr>", 1)[0]
    assert ">not checked<" in row and "this model computes no sentence embeddings" in row
