"""Drift signals with thresholds learned from held-out tickets: quiet on a same-distribution stream, firing on a
vocabulary shift (out-of-vocabulary share) and on a class-mix shift, stricter for large windows than small ones,
alerting on the fired flags, and falling back to the previous window for a model without the reference."""
from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classifier.artifact import load_model
from classifier.drift_reference import per_ticket, sketch
from classifier.drift_profile import reference_profile
from classifier.training import TrainOptions, fit_classifier
from config.validation import load_settings
from learning import drift_signals
from learning.alerts import check_alerts
from learning.drift import check
from learning_stream import FAST, VOCABULARY, examples, stream_day, ticket
from store.models import PredictionRecord, TicketRecord
from store.types import utcnow

REPO = Path(__file__).resolve().parents[2]
SIGNALS = {"oov_share", "mean_confidence", "class_mix", "embedding_distance"}


@pytest.fixture(scope="module")
def trained():
    """A model on the simulated stream's vocabulary and its drift reference from tickets it did not train on."""
    train = examples(60, seed=1)
    model, _ = fit_classifier([e.ticket for e in train], {"category": np.array([e.label for e in train], dtype=object)},
                              TrainOptions(seed=1, members=FAST, embeddings="off"))
    return model, reference_profile(model, [e.ticket for e in examples(60, seed=2)])


def signal_rows(rows) -> dict:
    return {r.metric: r for r in rows if r.metric in SIGNALS}


def store_tickets(store, model, tickets: list, days_ago: float = 1) -> None:
    received = utcnow() - timedelta(days=days_ago)
    with store.session() as session:
        for i, (t, p) in enumerate(zip(tickets, model.predict_batch(tickets))):
            record = TicketRecord(helpdesk="zendesk", external_id=f"mix-{days_ago}-{i}", subject=t.subject,
                                  body=t.body, language="en", received_at=received)
            session.add(record)
            session.flush()
            session.add(PredictionRecord(ticket_id=record.id, model_version="v1", category=p.category,
                                         confidence=p.confidence, probabilities=p.probabilities, decision="auto",
                                         threshold=0.7, derived=dict(p.derived), created_at=received))


def test_the_reference_sketches_each_statistic_from_held_out_tickets(trained):
    _, reference = trained
    sketched = reference["sketch"]
    assert sketched["m"] == 180 and set(sketched["class_counts"]) == set(VOCABULARY)
    assert set(sketched["quantiles"]) == {"oov_share", "confidence"}  # no embeddings in this model
    assert len(sketched["quantiles"]["confidence"]["grid"]) == 201


def five_days_checked(store, trained, seed: int, shifted: bool) -> dict:
    """Five days of 40 streamed tickets, then the drift check: its signal rows by metric."""
    model, reference = trained
    for day in range(1, 6):
        stream_day(store, model, day=day, n=40, seed=seed + day, shifted=shifted)
    with store.session() as session:
        return signal_rows(check(session, reference, "v1", utcnow()))


def test_a_same_distribution_stream_stays_quiet(store, trained):
    found = five_days_checked(store, trained, 100, shifted=False)
    assert set(found) == {"oov_share", "mean_confidence", "class_mix"}
    assert not [m for m, r in found.items() if r.detail["fired"]], {m: (r.value, r.detail) for m, r in found.items()}
    assert all(r.n == 200 and r.detail["against"] == "training reference" for r in found.values())


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_same_distribution_windows_of_several_seeds_stay_quiet(trained, seed):
    model, reference = trained
    rng = random.Random(seed)
    tickets = [ticket(rng.choice(list(VOCABULARY)), rng) for _ in range(150)]
    rows = [per_ticket(p.category, p.confidence, p.derived) for p in model.predict_batch(tickets)]
    fired = [s.metric for s in drift_signals.signals(reference["sketch"], rows) if s.fired]
    assert fired == []


def test_a_vocabulary_shift_fires_on_the_out_of_vocabulary_share_and_alerts(store, trained):
    found = five_days_checked(store, trained, 200, shifted=True)
    oov = found["oov_share"]
    assert oov.detail["fired"] and oov.value > oov.detail["threshold"] >= oov.detail["normal"], oov.detail
    sent = []
    check_alerts(store, load_settings({}, env_file=None), sent.append, utcnow() + timedelta(seconds=1))
    message = next(m for m in sent if "(drift:oov_share)" in m)
    assert "were never seen in training" in message and "review them and retrain" in message
    assert not any("(psi:" in m for m in sent)  # the learned thresholds decide, not the PSI constant


def test_a_class_mix_shift_fires_on_the_class_mix_not_on_vocabulary(store, trained):
    model, reference = trained
    rng = random.Random(5)
    store_tickets(store, model, [ticket("Billing" if i % 5 else "Access", rng) for i in range(120)])
    with store.session() as session:
        found = signal_rows(check(session, reference, "v1", utcnow()))
    assert found["class_mix"].detail["fired"], found["class_mix"].detail
    assert found["class_mix"].value > 0.4
    assert not found["oov_share"].detail["fired"]


def test_a_small_window_needs_a_bigger_deviation_than_a_large_one():
    rng = np.random.default_rng(0)
    reference = sketch([{"category": str(c), "confidence": float(x), "oov_share": float(o)} for c, x, o in
                        zip(rng.integers(0, 4, 2_000), rng.beta(8, 2, 2_000), rng.beta(1, 20, 2_000))])
    oov_grid = reference["quantiles"]["oov_share"]
    normal = float(np.mean(oov_grid["grid"]))
    small, large = (drift_signals.mean_threshold(oov_grid, n, "above") for n in (30, 3_000))
    assert small - normal > 3 * (large - normal) > 0
    low_small, low_large = (drift_signals.mean_threshold(reference["quantiles"]["confidence"], n, "below")
                            for n in (30, 3_000))
    assert low_small < low_large < float(np.mean(reference["quantiles"]["confidence"]["grid"]))
    assert drift_signals.mix_threshold(reference["class_counts"], 30) > \
        3 * drift_signals.mix_threshold(reference["class_counts"], 3_000)

    def window(n: int) -> list[dict]:  # every ticket's out-of-vocabulary share raised by the same 2 points
        return [{"category": str(i % 4), "confidence": 0.8, "oov_share": normal + 0.02} for i in range(n)]

    fired = {n: {s.metric: s.fired for s in drift_signals.signals(reference, window(n))}["oov_share"]
             for n in (30, 3_000)}
    assert fired == {30: False, 3_000: True}


def test_a_model_without_the_reference_falls_back_to_the_previous_window(store, trained):
    model, reference = trained
    old_reference = {key: value for key, value in reference.items() if key != "sketch"}  # written before it existed
    for day in (9, 10, 11):
        stream_day(store, model, day=day, n=40, seed=300 + day, shifted=False)
    for day in (1, 2, 3):
        stream_day(store, model, day=day, n=40, seed=400 + day, shifted=True)
    with store.session() as session:
        found = signal_rows(check(session, old_reference, "v1", utcnow()))
        no_reference = check(session, None, None, utcnow())
    assert found["oov_share"].detail == {**found["oov_share"].detail, "against": "previous window", "fired": True}
    assert signal_rows(no_reference)["oov_share"].detail["against"] == "previous window"


def test_a_model_without_centroids_predicts_and_an_empty_window_checks_quietly(store):
    starter = load_model(REPO / "models" / "starter")  # saved before drift centroids existed
    prediction = starter.predict("my invoice was charged twice")
    assert "vocabulary_coverage" in prediction.derived and "embedding_distance" not in prediction.derived
    with store.session() as session:
        rows = check(session, None, None, utcnow())
    assert signal_rows(rows) == {}


def test_with_embeddings_each_ticket_records_its_distance_to_the_nearest_training_category(tmp_path):
    from classifier.artifact import save_model
    from classifier.drift_reference import fit_centroids

    train = examples(30, seed=1)
    labels = np.array([e.label for e in train], dtype=object)
    model, _ = fit_classifier([e.ticket for e in train], {"category": labels},
                              TrainOptions(seed=1, members=("logreg", "embedding_logreg"), embeddings="on"))
    fit_centroids(model, [e.ticket for e in train], labels)
    save_model(model, tmp_path / "m", version="v-emb")
    model = load_model(tmp_path / "m")  # the centroids travel inside the model file
    assert model.drift_centroids_.shape[0] == 3 and model.drift_centroid_labels_ == sorted(VOCABULARY)
    reference = reference_profile(model, [e.ticket for e in examples(20, seed=2)])
    assert reference["sketch"]["quantiles"]["embedding_distance"]["m"] == 60
    usual, shifted = (model.predict_batch([e.ticket for e in examples(20, seed=3, shifted=s)
                                           if e.label == "Hardware"]) for s in (False, True))
    distance = [float(np.mean([p.derived["embedding_distance"] for p in found])) for found in (usual, shifted)]
    assert 0 <= distance[0] < distance[1] <= 2
