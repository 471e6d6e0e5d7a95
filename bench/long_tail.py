"""The default `triage train` on public long-tailed data, beside a TF-IDF + logistic regression baseline.

    python bench/long_tail.py [--sets tag2,queue,zipf,tag1,tag3,queue_type,groups] [--seeds 42,7,1234] [--json FILE]

Sets (from $TRIAGE_DATASETS_DIR, default ../shared/datasets):
  tag2        multilang-tickets, label tag_2: 59 classes, 29 of them under 5 rows
  queue       multilang-tickets, label queue: 10 queues, 5 languages
  zipf        Endava, 8 classes subsampled along a Zipf curve (largest 40x the smallest, about 8,400 rows)
  tag1, tag3  multilang-tickets tag_1 (38 classes, one holds 53%) and tag_3 (66 classes)
  queue_type  multilang-tickets, queue and type joined: 40 classes
  groups      the shape of a real incident set: 7,000 Endava tickets in 71 assignment groups, one holding
              about half, about a dozen under 5 rows (Hardware whole, the other topics each split in 10 groups
              by k-means on their words, sizes along a Zipf curve); for timing and the long tail, easier to
              separate than real groups
For each: a stratified holdout (the CLI's `holdout_split`, classes under 5 rows stay in training) set aside
before anything is fitted; the product's default training (`TrainOptions()`, as `triage train`), then on the
holdout its accuracy, macro-F1 and routing by the stored target-precision thresholds (share routed and share
right among them); each member's out-of-fold accuracy, macro-F1 and seconds, the kept members; and the
baseline (word 1-2 gram TF-IDF + LogisticRegression) and the plain word + char SVM, trained and scored on the
same rows in the same run; which model shipped (the stack or a plain one, classifier.candidates) and why.
Each seed draws its own holdout and trains anew; per set the figures' mean, standard deviation and values
over the seeds close the output.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SETS = ("tag2", "queue", "zipf", "tag1", "tag3", "queue_type", "groups")
ZIPF_LARGEST, ZIPF_RATIO = 5_000, 40.0


def _datasets() -> Path:
    return Path(os.environ.get("TRIAGE_DATASETS_DIR", REPO.parent / "shared" / "datasets"))


def load_set(name: str, seed: int):
    """LabeledData for one set, read the way `triage train --data ... --text ... --label ...` reads it."""
    import pandas as pd

    from classifier.dataset import load_labeled, read_csvs

    if name == "zipf":
        frame = read_csvs([_datasets() / "endava-it-tickets" / "tickets.csv"])
        order = frame["Topic_group"].value_counts().index
        exponent = np.log(ZIPF_RATIO) / np.log(len(order))
        parts = [frame[frame["Topic_group"] == label].sample(int(ZIPF_LARGEST / (rank + 1) ** exponent),
                                                             random_state=seed)
                 for rank, label in enumerate(order)]
        return load_labeled(pd.concat(parts, ignore_index=True), ["Document"], ["Topic_group"])
    if name == "groups":
        return load_labeled(_groups(read_csvs([_datasets() / "endava-it-tickets" / "tickets.csv"]), seed),
                            ["Document"], ["group"])
    frame = read_csvs([_datasets() / "multilang-tickets" / "tickets.csv"])
    label = {"tag2": "tag_2", "queue": "queue", "tag1": "tag_1", "tag3": "tag_3", "queue_type": "queue_type"}[name]
    if label == "queue_type":
        frame["queue_type"] = frame["queue"] + " / " + frame["type"]
    return load_labeled(frame, ["subject", "body"], [label])


TAIL = (4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1)  # the dozen smallest groups


def _groups(frame, seed: int, rows: int = 9_000, exponent: float = 1.4):
    import pandas as pd
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    frame = frame.dropna(subset=["Document", "Topic_group"]).reset_index(drop=True)
    groups = pd.Series("Hardware", index=frame.index)
    for topic in sorted(set(frame["Topic_group"]) - {"Hardware"}):
        part = frame.index[frame["Topic_group"] == topic]
        words = TfidfVectorizer(min_df=3).fit_transform(frame.loc[part, "Document"])
        clusters = MiniBatchKMeans(n_clusters=10, random_state=seed, n_init=3).fit_predict(words)
        groups[part] = [f"{topic} / {c}" for c in clusters]
    frame["group"] = groups
    names = ["Hardware"] + list(np.random.default_rng(seed).permutation(sorted(set(groups) - {"Hardware"})))
    weights = 1.0 / np.arange(1, len(names) + 1) ** exponent
    sizes = np.maximum(1, np.round(rows * weights / weights.sum())).astype(int)
    sizes[-len(TAIL):] = TAIL
    parts = [frame[frame["group"] == label].sample(min(size, int((frame["group"] == label).sum())), random_state=seed)
             for label, size in zip(names, sizes)]
    return pd.concat(parts, ignore_index=True)


def _fit_score(model, train_texts, train_y, test_texts, test_y) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, f1_score

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_texts, train_y)
    seconds = time.perf_counter() - started
    predicted = model.predict(test_texts)
    return {"accuracy": round(float(accuracy_score(test_y, predicted)), 4),
            "macro_f1": round(float(f1_score(test_y, predicted, average="macro")), 4),
            "train_seconds": round(seconds, 1)}


def baseline(train_texts, train_y, test_texts, test_y) -> dict:
    """Word 1-2 gram TF-IDF + logistic regression: what a team would try first."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                          LogisticRegression(C=10.0, max_iter=1000))
    return _fit_score(model, train_texts, train_y, test_texts, test_y)


def word_char_svm(train_texts, train_y, test_texts, test_y) -> dict:
    """Word 1-2 + char_wb 2-5 TF-IDF + LinearSVC(C=0.5): the plain model the issue measured 3 points above it."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    features = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                          TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3))
    return _fit_score(make_pipeline(features, LinearSVC(C=0.5)), train_texts, train_y, test_texts, test_y)


def run_set(name: str, seed: int, holdout: float, members: tuple[str, ...] | None) -> dict:
    from classifier.dataset import holdout_split
    from classifier.evaluation import evaluate
    from classifier.text import normalise
    from classifier.training import TrainOptions, fit_classifier

    data = load_set(name, seed)
    label = next(iter(data.labels))
    values = data.labels[label]
    train_index, test_index = holdout_split(values, holdout, seed)
    train = [data.tickets[i] for i in train_index]
    test = [data.tickets[i] for i in test_index]
    counts = np.unique(values[train_index], return_counts=True)[1]
    started = time.perf_counter()
    model, report = fit_classifier(train, {label: values[train_index]}, TrainOptions(seed=seed, members=members))
    train_seconds = time.perf_counter() - started
    metrics = evaluate(model, test, values[test_index], threshold=0.7)
    label_report = report["labels"][label]
    result = {
        "set": name, "rows": len(values), "train_rows": len(train), "holdout_rows": len(test),
        "classes": int(len(counts)), "classes_under_5": int((counts < 5).sum()),
        "largest_share": round(float(counts.max() / counts.sum()), 3),
        "triage": {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                   "routed": metrics["selective"]["coverage"], "routed_right": metrics["selective"]["accuracy"],
                   "threshold": metrics["selective"]["threshold"], "train_seconds": round(train_seconds, 1),
                   "interval": metrics["selective"].get("interval"),
                   "verdict": (metrics["selective"].get("verdict") or {}).get("status"),
                   "shipped": label_report["comparison"]["shipped"],
                   "held_out_routing": label_report["selective"].get("held_out"),
                   "embedding_model": report.get("embedding_model")},
        "comparison": label_report["comparison"],
        "members": {member: {key: scores[key] for key in ("accuracy", "macro_f1", "oof_seconds") if key in scores}
                    for member, scores in label_report["members"].items()},
        "skipped": label_report.get("skipped", {}),
        "kept": label_report["kept"],
        "stacked_oof": label_report["stacked_oof"],
    }
    texts = ([normalise(t.text) for t in train], values[train_index], [normalise(t.text) for t in test],
             values[test_index])
    result["baseline"], result["svm"] = baseline(*texts), word_char_svm(*texts)
    result["gain_over_baseline"] = round(result["triage"]["accuracy"] - result["baseline"]["accuracy"], 4)
    result["gain_over_svm"] = round(result["triage"]["accuracy"] - result["svm"]["accuracy"], 4)
    return result


def show(result: dict) -> None:
    t, b, v = result["triage"], result["baseline"], result["svm"]
    print(f"\n== {result['set']}: {result['rows']:,} rows ({result['train_rows']:,} train, "
          f"{result['holdout_rows']:,} holdout), {result['classes']} classes ({result['classes_under_5']} under 5 "
          f"rows), largest {result['largest_share']:.0%}")
    print(f"  triage    accuracy {t['accuracy']:.3f}  macro-F1 {t['macro_f1']:.3f}  routed {t['routed'] or 0:.1%} "
          f"at {t['routed_right'] or 0:.1%} right (threshold {t['threshold']})  train {t['train_seconds']:.0f} s"
          f"  shipped {t['shipped']}")
    print(f"  baseline  accuracy {b['accuracy']:.3f}  macro-F1 {b['macro_f1']:.3f}  train {b['train_seconds']:.0f} s"
          f"   gain {result['gain_over_baseline']:+.3f}")
    print(f"  svm       accuracy {v['accuracy']:.3f}  macro-F1 {v['macro_f1']:.3f}  train {v['train_seconds']:.0f} s"
          f"   gain {result['gain_over_svm']:+.3f}")
    print(f"  {result['comparison']['reason']}")
    print("  members (out-of-fold):")
    for member, scores in result["members"].items():
        kept = "kept" if member in result["kept"] else ""
        print(f"    {member:18s} accuracy {scores['accuracy']:.3f}  macro-F1 {scores['macro_f1']:.3f}  "
              f"{scores.get('oof_seconds', 0):6.1f} s  {kept}")
    for member, why in result["skipped"].items():
        print(f"    {member:18s} stopped after one fold: {why['reason']}; {why['seconds']} s")
    print(f"  stacked out-of-fold accuracy {result['stacked_oof']['accuracy']:.3f}")


SUMMARY = (("triage", "accuracy"), ("triage", "macro_f1"), ("triage", "routed"), ("triage", "routed_right"),
           ("triage", "train_seconds"), ("baseline", "accuracy"), ("baseline", "macro_f1"), ("svm", "accuracy"),
           ("svm", "macro_f1"), (None, "gain_over_baseline"), (None, "gain_over_svm"))


def spread(results: list[dict]) -> dict:
    """Per figure: mean, sample standard deviation and the values, over the seeds of one set (routed_right
    averaged over the seeds that routed anything)."""
    table = {}
    for part, key in SUMMARY:
        values = [(r[part] if part else r)[key] for r in results]
        values = [v for v in values if v is not None]
        name = f"{part}.{key}" if part else key
        table[name] = {"mean": round(float(np.mean(values)), 4) if values else None,
                       "sd": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None,
                       "values": values}
    table["shipped"] = [r["triage"]["shipped"] for r in results]
    table["precision_verdicts"] = [r["triage"]["verdict"] for r in results]
    return table


def show_spread(name: str, seeds: list[int], table: dict) -> None:
    print(f"\n== {name}: mean ± sd over seeds {', '.join(map(str, seeds))}")
    for figure, entry in table.items():
        if isinstance(entry, dict):
            sd = f" ± {entry['sd']:.4f}" if entry["sd"] is not None else ""
            mean = "-" if entry["mean"] is None else f"{entry['mean']:.4f}"
            print(f"  {figure:24s} {mean}{sd}   ({', '.join(str(v) for v in entry['values'])})")
    print(f"  shipped: {', '.join(table['shipped'])}; precision at target: {', '.join(map(str, table['precision_verdicts']))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS[:3]))
    parser.add_argument("--seeds", default="42,7,1234", help="comma-separated; each seed draws its own split")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--members", default=None, help="comma-separated member names (default: the product's)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("classifier.training").setLevel(logging.INFO)  # each member's score and time as it goes
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    members = tuple(args.members.split(",")) if args.members else None
    seeds = [int(seed) for seed in args.seeds.split(",")]
    results, summaries = [], {}
    for name in args.sets.split(","):
        if name not in SETS:
            parser.error(f"unknown set {name!r}; known: {', '.join(SETS)}")
        runs = []
        for seed in seeds:
            runs.append(run_set(name, seed, args.holdout, members))
            runs[-1]["seed"] = seed
            show(runs[-1])
        summaries[name] = spread(runs)
        show_spread(name, seeds, summaries[name])
        results += runs
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "summary": summaries}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
