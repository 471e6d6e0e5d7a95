"""The retraining data: base examples (the configured CSV files, else the store's imported history) plus
every correction, split into what the candidate trains on and what it is judged on.

The base holdout is fixed: a ticket is held out when a hash of its text falls in the holdout share, so
every retrain (and the champion) is scored on the same tickets. The most recent corrections are held out
too, so a candidate is also judged on the newest, possibly drifted, tickets it never saw.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.ticket import Ticket
from store.models import Correction, TicketRecord
from store.ticket_records import ticket_from_record

HOLDOUT_PERCENT = 20
RECENT_SHARE = 0.2  # of the corrections, the newest this share is held out for evaluation ...
RECENT_MAX = 1_000  # ... at most this many


@dataclass
class Example:
    ticket: Ticket
    label: str
    corrected_at: datetime | None = None  # set for a correction


@dataclass
class TrainingSet:
    train: list[Example] = field(default_factory=list)
    holdout: list[Example] = field(default_factory=list)  # fixed base holdout
    recent: list[Example] = field(default_factory=list)  # newest corrections, not trained on
    corrections_trained: int = 0
    weight: int = 1

    @property
    def evaluation(self) -> list[Example]:
        return self.holdout + self.recent

    def weighted_train(self) -> list[Example]:
        """Training rows with each correction repeated `weight` times (the classifier takes no weights)."""
        rows = []
        for example in self.train:
            rows.extend([example] * (self.weight if example.corrected_at is not None else 1))
        return rows

    def summary(self) -> dict:
        return {"train_rows": len(self.train), "holdout_rows": len(self.holdout),
                "recent_corrections": len(self.recent), "corrections_trained": self.corrections_trained,
                "correction_weight": self.weight}


def in_holdout(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8], 16) % 100 < HOLDOUT_PERCENT


def base_from_csv(paths: list[str], text_columns: str, label_column: str) -> list[Example]:
    from classifier.dataset import load_labeled, read_csvs
    from classifier.train_command import split_columns

    data = load_labeled(read_csvs(paths), split_columns(text_columns), [label_column])
    return [Example(ticket, str(label)) for ticket, label in zip(data.tickets, data.labels[label_column])]


def base_from_store(session: Session) -> list[Example]:
    """Imported history: labelled tickets with text whose label no person corrected."""
    corrected = select(Correction.ticket_id)
    query = select(TicketRecord).where(TicketRecord.label.is_not(None), TicketRecord.purged_at.is_(None),
                                       TicketRecord.id.not_in(corrected)).order_by(TicketRecord.id)
    return [Example(ticket_from_record(record), record.label) for record in session.scalars(query)
            if record.subject or record.body]


def corrections(session: Session) -> list[Example]:
    """The latest correction of every ticket whose text is still kept, oldest first."""
    latest: dict[int, Correction] = {}
    for row in session.scalars(select(Correction).order_by(Correction.created_at, Correction.id)):
        latest[row.ticket_id] = row
    examples = []
    for ticket_id, row in latest.items():
        record = session.get(TicketRecord, ticket_id)
        if record is None or record.purged_at is not None or not (record.subject or record.body):
            continue
        examples.append(Example(ticket_from_record(record), row.to_category, row.created_at))
    return sorted(examples, key=lambda e: e.corrected_at)


def build(base: list[Example], corrected: list[Example], weight: int) -> TrainingSet:
    result = TrainingSet(weight=weight)
    for example in base:
        (result.holdout if in_holdout(example.ticket.text) else result.train).append(example)
    n_recent = min(RECENT_MAX, int(round(len(corrected) * RECENT_SHARE)))
    older, result.recent = corrected[:len(corrected) - n_recent], corrected[len(corrected) - n_recent:]
    result.train.extend(older)
    result.corrections_trained = len(older)
    return result
