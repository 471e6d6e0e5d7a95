"""Rebuilds the bundled starter model in `models/starter/` from the Bitext customer-support utterances.

    python -m classifier.starter            # reads $TRIAGE_DATASETS_DIR (default ../shared/datasets)

Both Bitext files are used, with the category spellings merged (INVOICE -> INVOICES, REFUND -> REFUNDS,
SHIPPING_ADDRESS -> SHIPPING). Licence CDLA-Sharing-1.0. Never the CC-BY-NC multilingual set.
Cheap linear members only, so the artifact stays far under 25 MB and predict needs no embeddings.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from classifier.artifact import save_model
from classifier.dataset import holdout_split, load_labeled
from classifier.evaluation import evaluate
from classifier.train_command import data_fingerprint

log = logging.getLogger(__name__)

DATASET = "bitext-customer-support"
FILES = ("utterances-20k.csv", "utterances-8k.csv")
MERGED_SPELLINGS = {"INVOICE": "INVOICES", "REFUND": "REFUNDS", "SHIPPING_ADDRESS": "SHIPPING"}
MEMBERS = ("linear_svm", "complement_nb")
REPO = Path(__file__).resolve().parent.parent


def load_bitext(datasets_dir: Path) -> pd.DataFrame:
    frames = [pd.read_csv(datasets_dir / DATASET / name, dtype=str) for name in FILES]
    frame = pd.concat(frames, ignore_index=True)
    frame["category"] = frame["category"].str.strip().replace(MERGED_SPELLINGS)
    return frame.drop_duplicates(subset=["utterance", "category"]).reset_index(drop=True)


def build(datasets_dir: Path, out: Path, seed: int = 42) -> dict:
    from classifier.training import TrainOptions, fit_classifier

    frame = load_bitext(datasets_dir)
    data = load_labeled(frame, ["utterance"], ["category"])
    labels = data.labels["category"]
    train, test = holdout_split(labels, 0.2, seed)
    options = TrainOptions(seed=seed, members=MEMBERS, embeddings="off")
    holdout_model, _ = fit_classifier([data.tickets[i] for i in train], {"category": labels[train]}, options)
    holdout = evaluate(holdout_model, [data.tickets[i] for i in test], labels[test], measure_latency=False)
    model, training = fit_classifier(data.tickets, {"category": labels}, options)  # then fit on everything
    for stale in ("model.joblib", "manifest.json"):  # MODEL_CARD.md stays
        (out / stale).unlink(missing_ok=True)
    summary = {k: holdout[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1", "ece")}
    summary["conformal"] = holdout["conformal"]
    summary["coverage_at_0.7"] = next(c for c in holdout["coverage"] if c["threshold"] == 0.7)
    save_model(model, out, version=f"starter-{DATASET}",
               data_fingerprint=data_fingerprint([t.text for t in data.tickets], data.labels),
               metrics={"holdout_20pct_before_refit": summary, "training": {"train_seconds": training["train_seconds"],
                                                                            "kept": training["labels"]["category"]["kept"]}},
               extra={"data": {"dataset": DATASET, "files": list(FILES), "licence": "CDLA-Sharing-1.0",
                               "rows": len(labels), "merged_spellings": MERGED_SPELLINGS}})
    return summary


def main(argv: list[str] | None = None) -> int:
    from config.validation import load_settings

    parser = argparse.ArgumentParser(prog="python -m classifier.starter", description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, help="datasets folder (default: TRIAGE_DATASETS_DIR)")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "starter")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    datasets = args.datasets or load_settings().triage_datasets_dir
    summary = build(Path(datasets), args.out)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
