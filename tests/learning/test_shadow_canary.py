"""A challenger predicts beside the champion on live deliveries: recorded as `shadow` and never acted on,
or, with a canary share, acting while the champion's prediction is kept as `shadow`; the report compares
both on agreement and on tickets a person labelled."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classifier.artifact import save_model
from classifier.registry import ModelRegistry
from classifier.ticket import Ticket
from classifier.training import TrainOptions, fit_classifier
from integrations.inbound import TICKET_CREATED, InboundEvent
from learning.shadow import report
from learning_stream import examples
from store import inbox
from store.models import PredictionRecord, TicketRecord
from webhook_app import app_settings


def challenger_version(models_dir: Path) -> str:
    data = examples(10, seed=4)
    model, _ = fit_classifier([e.ticket for e in data], {"category": np.array([e.label for e in data], dtype=object)},
                              TrainOptions(seed=1, members=("linear_svm", "complement_nb"), embeddings="off"))
    folder = ModelRegistry(models_dir).new_version_dir()
    save_model(model, folder, version=folder.name)
    return folder.name


def deliver(runtime, ticket_id: str) -> int:
    event = InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=ticket_id,
                         ticket=Ticket(subject="my laptop screen", body="the printer and monitor are broken"),
                         idempotency_key=f"zendesk:ticket.created:{ticket_id}")
    with runtime.store.session() as session:
        return inbox.record_delivery(session, event)[0]


@pytest.mark.parametrize("canary_share", [0.0, 1.0])
def test_the_challenger_is_recorded_and_acts_only_in_its_canary_share(store, tmp_path, canary_share):
    from app import create_app

    version = challenger_version(tmp_path / "models")
    app = create_app(app_settings(store.url, triage_model_dir=tmp_path / "models", triage_challenger=version,
                                  triage_canary_share=canary_share), env_file=None)
    runtime = app.extensions["triage"]
    try:
        for n in range(3):
            runtime.pipeline.process(deliver(runtime, str(n)), "w1")
        with store.session() as session:
            rows = session.scalars(select(PredictionRecord).order_by(PredictionRecord.id)).all()
            acting = {row.model_version for row in rows if row.role == "champion"}
            shadow = {row.model_version for row in rows if row.role == "shadow"}
            ticket = session.get(TicketRecord, rows[0].ticket_id)
            ticket.label, ticket.label_source = "Hardware", "slack"
        assert len(rows) == 6
        assert (acting == {version}) == (canary_share == 1.0) and (shadow == {version}) == (canary_share == 0.0)
        with store.session() as session:
            summary = report(session)
        assert summary["deliveries"] == 3 and summary["agreement"] == 0.0  # the starter and the challenger share no label
        assert summary["versions"][version]["labelled"] == 1
        assert summary["versions"][version]["accuracy"] == 1.0
    finally:
        runtime.close()
