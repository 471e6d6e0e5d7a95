"""Accuracy benchmark of `triage train` against TF-IDF (1-2 grams) + logistic regression on the same split.

    python bench/classifier_accuracy.py [--work DIR] [--only endava|multilang] [--seeds 42,7,1234]

Runs the real CLI (`triage train ... --json`) on Endava (Document -> Topic_group) and on the
multilingual set (subject,body -> queue, priority), stratified 80/20 with each seed, and prints: the shipped
model vs the baseline and the plain word + char SVM, what shipped and why, routing at the target precision with
its interval, every member's out-of-fold scores and which were kept, ECE, the coverage curve, the
conformal error/coverage, training time, and for the multilingual set accuracy per language and for
priority; then per set the mean and standard deviation over the seeds. Artifacts stay in --work
(`<set>-<seed>`) for bench/classifier_speed.py.
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


def plain_models(tickets, labels, train, test) -> dict:
    """The two plain models on the same cleaned text and split: TF-IDF word 1-2 grams + logistic regression (the
    baseline), and word + char_wb TF-IDF + LinearSVC(C=0.5) (long_tail.py's, the same code)."""
    from bench.long_tail import baseline, word_char_svm
    from classifier.text import normalise

    texts = np.array([normalise(t.text) for t in tickets], dtype=object)
    split = (list(texts[train]), labels[train], list(texts[test]), labels[test])
    return {"baseline": baseline(*split), "svm": word_char_svm(*split)}


def train_cli(path: Path, spec: dict, out: Path, seed: int) -> tuple[dict, float]:
    command = [sys.executable, "-m", "cli.main", "train", "--data", str(path), "--text", spec["text"],
               "--out", str(out), "--holdout", "0.2", "--seed", str(seed), "--json"]
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


def run(name: str, datasets: Path, work: Path, seed: int) -> dict:
    from classifier.dataset import holdout_split, load_labeled, read_csvs

    spec = SETS[name]
    path = datasets / spec["file"]
    result, seconds = train_cli(path, spec, work / f"{name}-{seed}", seed)
    data = load_labeled(read_csvs([path]), spec["text"].split(","), spec["labels"])
    main = data.labels[spec["labels"][0]]
    train, test = holdout_split(main, 0.2, seed)
    plain = plain_models(data.tickets, main, train, test)
    base, svm = plain["baseline"], plain["svm"]
    print(f"\n=== {name}, seed {seed}: {len(train)} train / {len(test)} holdout rows; triage train wall time "
          f"{seconds:.0f} s")
    print(f"triage    accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  ECE {result['ece']:.4f}")
    print(f"baseline  accuracy {base['accuracy']:.4f}  macro-F1 {base['macro_f1']:.4f}  (TF-IDF 1-2 + LR, {base['train_seconds']} s)")
    print(f"svm       accuracy {svm['accuracy']:.4f}  macro-F1 {svm['macro_f1']:.4f}  (word + char TF-IDF + LinearSVC, "
          f"{svm['train_seconds']} s)")
    print(f"lift      accuracy {100 * (result['accuracy'] - base['accuracy']):+.2f} points over the baseline, "
          f"{100 * (result['accuracy'] - svm['accuracy']):+.2f} over the SVM")
    for label, report in result["training"]["labels"].items():
        print(f"members ({label}, out-of-fold on the training part; kept: {', '.join(report['kept'])}):")
        for member, scores in report["members"].items():
            print(f"  {member:18s} acc {scores['accuracy']:.4f}  F1 {scores['macro_f1']:.4f}  "
                  f"log-loss {scores['log_loss']:.4f}  ECE {scores['ece']:.4f}  {scores['oof_seconds']:6.1f} s")
        stacked = report["stacked_oof"]
        print(f"  {'shipped, calibrated':18s} acc {stacked['accuracy']:.4f}  F1 {stacked['macro_f1']:.4f}  "
              f"log-loss {stacked['log_loss']:.4f}  ECE {stacked['ece']:.4f}")
        print(f"  {report['comparison']['reason']}")
    selective = result.get("selective") or {}
    print(f"routing at target {selective.get('target_precision')}: {selective.get('coverage')} of tickets, "
          f"{selective.get('accuracy')} of them right, interval {selective.get('interval')}; "
          f"{(selective.get('verdict') or {}).get('message')}")
    print("coverage curve (threshold: share auto-routed, accuracy of those):")
    for point in result["coverage"]:
        print(f"  {point['threshold']:.2f}: {point['coverage']:.3f}  {point['accuracy']}")
    print("conformal:", json.dumps(result.get("conformal")))
    print("latency_ms (single predict, warm):", result["latency_ms"])
    for label, scores in result["fields"].items():
        print(f"field {label}: accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}  ECE {scores['ece']:.4f}")
    if name == "multilang":
        print("queue accuracy per language:", json.dumps(per_language(work / f"{name}-{seed}", data, test)))
    return {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"], "routed": selective.get("coverage"),
            "routed_right": selective.get("accuracy"), "train_seconds": round(seconds, 1),
            "baseline": base["accuracy"], "svm": svm["accuracy"],
            "shipped": result["training"]["labels"][spec["labels"][0]]["comparison"]["shipped"]}


def show_spread(name: str, seeds: list[int], runs: list[dict]) -> None:
    print(f"\n=== {name}: mean ± sd over seeds {', '.join(map(str, seeds))}")
    for key in ("accuracy", "macro_f1", "routed", "routed_right", "train_seconds", "baseline", "svm"):
        values = [run[key] for run in runs if run[key] is not None]
        if values:
            sd = f" ± {np.std(values, ddof=1):.4f}" if len(values) > 1 else ""
            print(f"  {key:14s} {np.mean(values):.4f}{sd}   ({', '.join(map(str, values))})")
    print(f"  shipped: {', '.join(run['shipped'] for run in runs)}")


def main() -> int:
    from config.validation import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench")
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--seeds", default="42,7,1234", help="comma-separated; each seed draws its own split")
    args = parser.parse_args()
    datasets = (args.datasets or load_settings().triage_datasets_dir).resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    for name in [args.only] if args.only else list(SETS):
        show_spread(name, seeds, [run(name, datasets, args.work, seed) for seed in seeds])
    return 0


if __name__ == "__main__":
    sys.exit(main())
