"""A simulated ticket stream for the learning tests: three categories with their own words; from the
shift on, the Hardware category's vocabulary changes (new products), which the first model never saw."""
from __future__ import annotations

import random
from datetime import timedelta

from classifier.ticket import Ticket
from learning.training_set import Example
from store.models import PredictionRecord, ReviewMessage, TicketRecord
from store.types import utcnow

FAST = ("linear_svm", "logreg", "complement_nb")
VOCABULARY = {
    "Billing": ["invoice", "charge", "refund", "payment", "billing", "receipt", "price", "subscription"],
    "Access": ["password", "login", "locked", "account", "signin", "twofactor", "reset", "username"],
    "Hardware": ["laptop", "printer", "monitor", "keyboard", "docking", "screen", "battery", "mouse"],
}
SHIFTED = {"Hardware": ["headset", "webcam", "tablet", "router", "projector", "scanner", "charger", "speaker"]}
FILLER = ["please", "help", "issue", "team", "today", "need", "since", "morning", "again", "urgent"]
SHIFTED_CATEGORY = "Hardware"


def ticket(category: str, rng: random.Random, shifted: bool = False) -> Ticket:
    words = (SHIFTED if shifted else VOCABULARY).get(category, VOCABULARY[category])
    parts = rng.sample(words, 3) + rng.sample(FILLER, 3)
    rng.shuffle(parts)
    return Ticket(subject=" ".join(parts[:2]), body=" ".join(parts[2:]), language="en")


def examples(n_per_class: int, seed: int, shifted: bool = False) -> list[Example]:
    rng = random.Random(seed)
    return [Example(ticket(c, rng, shifted), c) for c in VOCABULARY for _ in range(n_per_class)]


def stream_day(store, model, day: int, n: int, seed: int, shifted: bool, threshold: float = 0.7) -> list[tuple]:
    """Store `n` tickets as received `day` days ago with the model's prediction; (external id, truth, decision)."""
    rng = random.Random(seed)
    received = utcnow() - timedelta(days=day, hours=1)
    out = []
    with store.session() as session:
        for i in range(n):
            truth = rng.choice(list(VOCABULARY))
            t = ticket(truth, rng, shifted)
            prediction = model.predict(t)
            decision = "auto" if prediction.confidence >= threshold else "review"
            record = TicketRecord(helpdesk="zendesk", external_id=f"d{day}-{seed}-{i}", subject=t.subject, body=t.body,
                                  language="en", tier="gold" if i % 2 else "silver", received_at=received)
            session.add(record)
            session.flush()
            session.add(PredictionRecord(ticket_id=record.id, model_version=prediction.model_version,
                                         category=prediction.category, confidence=prediction.confidence,
                                         probabilities=prediction.probabilities, decision=decision, threshold=threshold,
                                         derived=dict(prediction.derived), latency_ms=5.0, created_at=received))
            if decision == "review":
                session.add(ReviewMessage(ticket_id=record.id, created_at=received))
            out.append((record.external_id, truth, decision, prediction.category))
    return out
