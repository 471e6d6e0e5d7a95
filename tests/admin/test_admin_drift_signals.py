"""The drift panel's signals: each statistic of a real drift check, its learned alarm, whether it fired and a
sentence on what it means, on the page and in the data.json refresh, with nothing inline."""
from __future__ import annotations

import html
import random
from datetime import timedelta

from admin_seed import ADMIN_TOKEN
from classifier.drift_reference import sketch
from learning.drift import check
from store.models import PredictionRecord, TicketRecord
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
