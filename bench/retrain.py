"""Times one retrain as the clock runs it on 40,000 Endava tickets: base data plus corrections in the store.

    python bench/retrain.py [--rows 40000] [--corrections 1000] [--members a,b,...]

Data: $TRIAGE_DATASETS_DIR/endava-it-tickets/tickets.csv (text `Document`, label `Topic_group`). The
corrections are further Endava rows stored as tickets with a Slack correction. Prints one JSON object:
seconds for the whole retrain (load, fit, score candidate and champion, save, decide), rows, outcome.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=40_000, help="tickets in all (base + corrections)")
    parser.add_argument("--corrections", type=int, default=1_000)
    parser.add_argument("--members", help="comma list (default: every candidate, as the clock does)")
    args = parser.parse_args()

    import pandas as pd

    from classifier.registry import ModelRegistry
    from classifier.training import TrainOptions
    from config.validation import load_settings
    from learning.retrain import retrain
    from store.database import Store
    from store.models import Correction, TicketRecord

    datasets = Path(os.environ.get("TRIAGE_DATASETS_DIR", REPO.parent / "shared" / "datasets"))
    frame = pd.read_csv(datasets / "endava-it-tickets" / "tickets.csv").dropna(subset=["Document", "Topic_group"])
    total = args.rows  # the set has 38,331 rows: a larger total repeats some
    if total > len(frame):
        frame = pd.concat([frame, frame.sample(n=total - len(frame), random_state=1)], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    base, extra = frame.iloc[:args.rows - args.corrections], frame.iloc[args.rows - args.corrections:args.rows]
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        base.to_csv(work / "base.csv", index=False)
        settings = load_settings({"database_url": f"sqlite:///{work / 'bench.db'}", "triage_model_dir": work / "models",
                                  "triage_train_data": [str(work / "base.csv")], "triage_train_text": "Document",
                                  "triage_train_label": "Topic_group"}, env_file=None)
        store = Store(settings.database_url)
        store.upgrade()
        with store.session() as session:
            for i, row in enumerate(extra.itertuples()):
                ticket = TicketRecord(helpdesk="zendesk", external_id=f"b{i}", body=row.Document,
                                      label=row.Topic_group, label_source="slack")
                session.add(ticket)
                session.flush()
                session.add(Correction(ticket_id=ticket.id, source="slack", user="U1", to_category=row.Topic_group))
        options = TrainOptions(timezone=settings.triage_timezone,
                               members=tuple(args.members.split(",")) if args.members else None)
        started = time.perf_counter()
        result = retrain(settings, store, ModelRegistry(settings.triage_model_dir, settings.triage_starter_model),
                         options)
        seconds = time.perf_counter() - started
        store.dispose()
    print(json.dumps({"tickets": len(base) + len(extra), "base_rows": len(base), "corrections": len(extra),
                      "seconds": round(seconds, 1), "data": result.data,
                      "fit_seconds": result.metrics["training"]["train_seconds"], "promoted": result.promoted,
                      "holdout": {k: result.metrics["holdout"][k] for k in ("n", "accuracy", "macro_f1")},
                      "cpu_count": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
