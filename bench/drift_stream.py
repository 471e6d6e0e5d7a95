"""The drift check on a shifted and on unshifted (same-distribution) streams of the same size, side by side.

    python bench/drift_stream.py [--base 6000] [--stream 3000] [--small 200] [--seeds 3] [--category Hardware]
                                 [--embeddings off|on]

Endava tickets ($TRIAGE_DATASETS_DIR/endava-it-tickets/tickets.csv), shuffled as bench/learning_stream.py does.
One model is trained by the clock's retrain on `--base` tickets (fast members; its drift reference comes from
its fixed holdout). Then each stream's predictions are stored in a scratch database and the daily drift
check runs on them: the shifted stream (the next `--stream` tickets, `--category`'s 40 most telling words
replaced by new ones) and unshifted streams of the same size (the same tickets unchanged, then `--seeds - 1`
other random draws of later tickets). Each is checked as a whole and on its first `--small` tickets, so the
thresholds of both window sizes show. Prints a table, then one JSON object on the last line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

SIGNALS = ("oov_share", "mean_confidence", "class_mix", "embedding_distance")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=int, default=6_000)
    parser.add_argument("--stream", type=int, default=3_000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--category", default="Hardware")
    parser.add_argument("--embeddings", choices=("off", "on"), default="off")
    args = parser.parse_args()

    import pandas as pd

    from _learning import scratch_learning
    from classifier.ticket import Ticket
    from classifier.training import TrainOptions
    from learning.retrain import retrain
    from learning.training_set import Example
    from learning_stream import _shift_map

    datasets = Path(os.environ.get("TRIAGE_DATASETS_DIR", REPO.parent / "shared" / "datasets"))
    frame = pd.read_csv(datasets / "endava-it-tickets" / "tickets.csv").dropna(subset=["Document", "Topic_group"])
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    base, later = frame.iloc[:args.base], frame.iloc[args.base:]
    shift = _shift_map(base, args.category)

    def tickets(rows, shifted: bool) -> list[Ticket]:
        return [Ticket(body=" ".join(shift.get(w, w) for w in str(r.Document).split())
                       if shifted and r.Topic_group == args.category else r.Document, language="en")
                for r in rows.itertuples()]

    first = later.iloc[:args.stream]
    streams = {"shifted": tickets(first, True), "unshifted": tickets(first, False)}
    for seed in range(1, args.seeds):
        streams[f"unshifted seed {seed}"] = tickets(later.sample(n=args.stream, random_state=seed), False)
    members = ("linear_svm", "logreg", "complement_nb") + (("embedding_logreg",) if args.embeddings == "on" else ())
    options = TrainOptions(members=members, embeddings=args.embeddings)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        settings, store, registry = scratch_learning(work)
        examples = [Example(Ticket(body=r.Document, language="en"), r.Topic_group) for r in base.itertuples()]
        trained = retrain(settings, store, registry, options, base=examples)
        store.dispose()
        model, reference = registry.load_current(), registry.versions()[-1]["drift_reference"]
        for name, stream in streams.items():
            predictions = model.predict_batch(stream)
            for size in (args.stream, args.small):
                results[(name, size)] = _checked(work / f"{len(results)}.db", stream[:size], predictions[:size],
                                                 reference, trained.version)
    _print_table(results)
    print(json.dumps({"base": args.base, "stream": args.stream, "small": args.small, "category": args.category,
                      "embeddings": args.embeddings, "reference_tickets": reference["sketch"]["m"],
                      "checks": [{"stream": name, "n": size, "signals": found}
                                 for (name, size), found in results.items()]}))
    return 0


def _checked(path: Path, stream, predictions, reference: dict, version: str) -> dict:
    """Store the stream's predictions (received within the last hour) and run the daily drift check on them."""
    from learning.drift import check
    from store.database import Store
    from store.models import PredictionRecord, TicketRecord
    from store.types import utcnow

    store = Store(f"sqlite:///{path}")
    store.upgrade()
    with store.session() as session:
        for i, (ticket, p) in enumerate(zip(stream, predictions)):
            record = TicketRecord(helpdesk="zendesk", external_id=str(i), body=ticket.body, language="en")
            session.add(record)
            session.flush()
            session.add(PredictionRecord(ticket_id=record.id, model_version=version, category=p.category,
                                         confidence=p.confidence, probabilities=p.probabilities, threshold=0.7,
                                         decision="auto" if p.confidence >= 0.7 else "review",
                                         derived=dict(p.derived)))
    with store.session() as session:
        rows = check(session, reference, version, utcnow())
        found = {r.metric: {"value": r.value, "threshold": r.detail["threshold"], "fired": r.detail["fired"]}
                 for r in rows if r.metric in SIGNALS}
        found["psi_category"] = next((r.value for r in rows if r.metric == "psi_category"), None)
    store.dispose()
    return found


def _print_table(results: dict) -> None:
    names = list(dict.fromkeys(name for name, _ in results))
    sizes = list(dict.fromkeys(size for _, size in results))
    for size in sizes:
        print(f"\nwindow of {size} tickets: value / threshold / fired")
        print(f"{'statistic':<20}" + "".join(f"{name:>28}" for name in names))
        for metric in SIGNALS:
            cells = [results[(name, size)].get(metric) for name in names]
            if any(cells):
                print(f"{metric:<20}" + "".join(
                    f"{c['value']:.4f} / {c['threshold']:.4f} / {'FIRED' if c['fired'] else 'quiet'}".rjust(28) if c
                    else "-".rjust(28) for c in cells))
        print(f"{'psi_category':<20}" + "".join(f"{results[(name, size)]['psi_category']!s:>28}" for name in names))


if __name__ == "__main__":
    sys.exit(main())
