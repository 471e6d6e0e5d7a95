"""A shifted category on real tickets: accuracy on it before and after one retrain with corrections.

    python bench/learning_stream.py [--base 6000] [--stream 3000] [--category Hardware]

Endava tickets ($TRIAGE_DATASETS_DIR/endava-it-tickets/tickets.csv). The first model trains on `--base`
tickets. Then `--stream` newer tickets arrive in which the chosen category's 40 most telling words are
replaced by new ones (a product or vocabulary change). Tickets below the threshold are corrected through
the Slack click path, wrongly auto-routed ones by an agent's re-routing (90% of them), and the clock's
retrain runs (fast members). Prints JSON: the drift check (PSI, low-confidence share, and accuracy measured
from the corrections per category), accuracy on the shifted category before and after (on shifted tickets
neither model saw), overall accuracy, the promotion decision and the retrain's seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=int, default=6_000)
    parser.add_argument("--stream", type=int, default=3_000)
    parser.add_argument("--test", type=int, default=1_500)
    parser.add_argument("--category", default="Hardware")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from _learning import scratch_learning
    from classifier.ticket import Ticket
    from classifier.training import TrainOptions
    from config.routing import load_routing
    from integrations.slack.clicks import ClickRecorder
    from learning.drift import check
    from learning.rerouting import record_rerouting
    from learning.retrain import retrain, score
    from learning.training_set import Example
    from store.models import PredictionRecord, ReviewMessage, TicketRecord
    from store.types import utcnow

    datasets = Path(os.environ.get("TRIAGE_DATASETS_DIR", REPO.parent / "shared" / "datasets"))
    frame = pd.read_csv(datasets / "endava-it-tickets" / "tickets.csv").dropna(subset=["Document", "Topic_group"])
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    base = frame.iloc[:args.base]
    later = frame.iloc[args.base:args.base + args.stream + args.test]
    shift = _shift_map(base, args.category)

    def shifted(row) -> Ticket:
        text = row.Document if row.Topic_group != args.category else \
            " ".join(shift.get(w, w) for w in str(row.Document).split())
        return Ticket(body=text, language="en")

    stream = [(shifted(r), r.Topic_group) for r in later.iloc[:args.stream].itertuples()]
    test = [Example(shifted(r), r.Topic_group) for r in later.iloc[args.stream:].itertuples()]
    shifted_test = [e for e in test if e.label == args.category]
    options = TrainOptions(members=("linear_svm", "logreg", "complement_nb"), embeddings="off")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        settings, store, registry = scratch_learning(work)
        base_examples = [Example(Ticket(body=r.Document, language="en"), r.Topic_group) for r in base.itertuples()]
        first = retrain(settings, store, registry, options, base=base_examples)
        champion = registry.load_current()
        before = score(champion, shifted_test, 0.7)["accuracy"]
        overall_before = score(champion, test, 0.7)["accuracy"]
        predictions = champion.predict_batch([t for t, _ in stream])
        with store.session() as session:
            for i, ((ticket, truth), p) in enumerate(zip(stream, predictions)):
                record = TicketRecord(helpdesk="zendesk", external_id=str(i), body=ticket.body, language="en")
                session.add(record)
                session.flush()
                decision = "auto" if p.confidence >= 0.7 else "review"
                session.add(PredictionRecord(ticket_id=record.id, model_version=p.model_version, category=p.category,
                                             confidence=p.confidence, probabilities=p.probabilities,
                                             decision=decision, threshold=0.7, derived=dict(p.derived)))
                if decision == "review":
                    session.add(ReviewMessage(ticket_id=record.id))
        with store.session() as session:
            manifest = registry.versions()[-1]
            drift = {r.metric: r.value for r in check(session, manifest["drift_reference"], first.version, utcnow())
                     if r.segment == "all"}
        clicks = ClickRecorder(store, load_routing(REPO / "config" / "routing.toml"), helpdesks={})
        rng = np.random.default_rng(0)
        slack = agents = 0
        for i, ((ticket, truth), p) in enumerate(zip(stream, predictions)):
            if p.confidence < 0.7:
                slack += clicks.click("zendesk", str(i), "U-REVIEWER", truth).outcome == "routed"
            elif p.category != truth and rng.random() < 0.9:
                agents += record_rerouting(store, "zendesk", str(i), truth, "agent@example.com")
        with store.session() as session:
            measured = {r.segment: r.value for r in check(session, manifest["drift_reference"], first.version,
                                                          utcnow()) if r.metric == "accuracy"}
        unshifted = champion.predict_batch([Ticket(body=r.Document) for r in later.iloc[:args.stream].itertuples()])
        low_before = float(np.mean([p.confidence < 0.7 for p in unshifted]))
        started = time.perf_counter()
        second = retrain(settings, store, registry, options, base=base_examples)
        seconds = time.perf_counter() - started
        model = registry.load_current()
        after = score(model, shifted_test, 0.7)["accuracy"]
        overall_after = score(model, test, 0.7)["accuracy"]
        store.dispose()
    print(json.dumps({"category": args.category, "base": len(base), "stream": len(stream),
                      "slack_corrections": slack, "agent_corrections": agents, "drift": drift,
                      "low_confidence_without_shift": round(low_before, 4),
                      "measured_accuracy_after_corrections": {k: v for k, v in measured.items()
                                                              if k == "all" or k.startswith("category:")},
                      "shifted_accuracy_before": before, "shifted_accuracy_after": after,
                      "shifted_test_tickets": len(shifted_test),
                      "overall_accuracy_before": overall_before, "overall_accuracy_after": overall_after,
                      "promoted": second.promoted, "reason": second.reason, "retrain_seconds": round(seconds, 1)}))
    return 0


def _shift_map(base, category: str, n: int = 40) -> dict[str, str]:
    """The category's most over-represented words -> new made-up words (a vocabulary change)."""
    inside, outside = Counter(), Counter()
    for text, label in zip(base.Document, base.Topic_group):
        words = set(re.findall(r"[a-z]{4,}", str(text).lower()))
        (inside if label == category else outside).update(words)
    n_in, n_out = max(1, (base.Topic_group == category).sum()), max(1, (base.Topic_group != category).sum())
    lift = {w: (c / n_in) / ((outside[w] + 1) / n_out) for w, c in inside.items() if c >= 20}
    return {w: f"neo{w[::-1]}" for w, _ in sorted(lift.items(), key=lambda kv: -kv[1])[:n]}


if __name__ == "__main__":
    sys.exit(main())
