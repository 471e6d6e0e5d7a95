"""Accuracy benchmark of `triage train` against TF-IDF (1-2 grams) + logistic regression on the same split.

    python bench/classifier_accuracy.py [--work DIR] [--only endava|multilang]

Runs the real CLI (`triage train ... --json`) on Endava (Document -> Topic_group) and on the
multilingual set (subject,body -> queue, priority), stratified 80/20 with seed 42, and prints: ensemble
vs baseline, every member's out-of-fold scores and which were kept, ECE, the coverage curve, the
conformal error/coverage, training time, and for the multilingual set accuracy per language and for
priority. Artifacts stay in --work for bench/classifier_speed.py.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SETS = {
    "endava": {"file": "endava-it-tickets/tickets.csv", "text": "Document", "labels": ["Topic_group"]},
    "multilang": {"file": "multilang-tickets/tickets.csv", "text": "subject,body", "labels": ["queue", "priority"]},
}


def baseline(tickets, labels, train, test) -> dict:
    """TF-IDF word 1-2 grams + logistic regression, on the same cleaned text and split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    from classifier.text import normalise

    texts = np.array([normalise(t.text) for t in tickets], dtype=object)
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    model = LogisticRegression(C=10.0, max_iter=1000).fit(vectorizer.fit_transform(texts[train]), labels[train])
    predicted = model.predict(vectorizer.transform(texts[test]))
    return {"accuracy": round(accuracy_score(labels[test], predicted), 4),
            "macro_f1": round(f1_score(labels[test], predicted, average="macro"), 4),
            "train_seconds": round(time.perf_counter() - started, 1)}


def train_cli(path: Path, spec: dict, out: Path) -> tuple[dict, float]:
    command = [sys.executable, "-m", "cli.main", "train", "--data", str(path), "--text", spec["text"],
               "--out", str(out), "--holdout", "0.2", "--seed", "42", "--json"]
    for label in spec["labels"]:
        command += ["--label", label]
    print("$", " ".join(command[2:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr[-3000:])
        raise SystemExit(f"train failed with exit code {done.returncode}")
    return json.loads(done.stdout), seconds


def per_language(model_dir: Path, data, holdout) -> dict:
    from classifier.artifact import load_model

    model = load_model(model_dir)
    tickets = [data.tickets[i] for i in holdout]
    predictions = model.predict_batch(tickets)
    truth = data.labels["queue"][holdout]
    rows = {}
    for language in sorted({t.language for t in tickets}):
        mask = np.array([t.language == language for t in tickets])
        right = np.array([p.category for p in predictions], dtype=object)[mask] == truth[mask]
        rows[language] = {"n": int(mask.sum()), "accuracy": round(float(right.mean()), 4)}
    return rows


def run(name: str, datasets: Path, work: Path) -> None:
    from classifier.dataset import holdout_split, load_labeled, read_csvs

    spec = SETS[name]
    path = datasets / spec["file"]
    result, seconds = train_cli(path, spec, work / name)
    data = load_labeled(read_csvs([path]), spec["text"].split(","), spec["labels"])
    main = data.labels[spec["labels"][0]]
    train, test = holdout_split(main, 0.2, 42)
    base = baseline(data.tickets, main, train, test)
    print(f"\n=== {name}: {len(train)} train / {len(test)} holdout rows; triage train wall time {seconds:.0f} s")
    print(f"ensemble  accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  ECE {result['ece']:.4f}")
    print(f"baseline  accuracy {base['accuracy']:.4f}  macro-F1 {base['macro_f1']:.4f}  (TF-IDF 1-2 + LR, {base['train_seconds']} s)")
    print(f"lift      accuracy {100 * (result['accuracy'] - base['accuracy']):+.2f} points, "
          f"macro-F1 {100 * (result['macro_f1'] - base['macro_f1']):+.2f} points")
    for label, report in result["training"]["labels"].items():
        print(f"members ({label}, out-of-fold on the training part; kept: {', '.join(report['kept'])}):")
        for member, scores in report["members"].items():
            print(f"  {member:18s} acc {scores['accuracy']:.4f}  F1 {scores['macro_f1']:.4f}  "
                  f"log-loss {scores['log_loss']:.4f}  ECE {scores['ece']:.4f}  {scores['oof_seconds']:6.1f} s")
        stacked = report["stacked_oof"]
        print(f"  {'stacked+calibrated':18s} acc {stacked['accuracy']:.4f}  F1 {stacked['macro_f1']:.4f}  "
              f"log-loss {stacked['log_loss']:.4f}  ECE {stacked['ece']:.4f}")
    print("coverage curve (threshold: share auto-routed, accuracy of those):")
    for point in result["coverage"]:
        print(f"  {point['threshold']:.2f}: {point['coverage']:.3f}  {point['accuracy']}")
    print("conformal:", json.dumps(result.get("conformal")))
    print("latency_ms (single predict, warm):", result["latency_ms"])
    for label, scores in result["fields"].items():
        print(f"field {label}: accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}  ECE {scores['ece']:.4f}")
    if name == "multilang":
        print("queue accuracy per language:", json.dumps(per_language(work / name, data, test)))


def main() -> int:
    from config.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench")
    parser.add_argument("--only", choices=sorted(SETS))
    args = parser.parse_args()
    datasets = (args.datasets or load_settings().triage_datasets_dir).resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    for name in [args.only] if args.only else list(SETS):
        run(name, datasets, args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
