"""Which members earn a place on Endava: every candidate's out-of-fold and holdout accuracy, and stacks.

    python bench/classifier_members.py [--work DIR] [--only NAME[,NAME...]] [--embeddings]

Same split as `triage train --holdout 0.2 --seed 42` and the product's features, folds, stacker and
temperature. Besides the product's members it tries heavier or differently regularised variants (a
larger LightGBM, weakly regularised logistic regression on raw 1-3 gram TF-IDF, an MLP, k-NN, the MiniLM
member with --embeddings) to show where the accuracy ceiling of this data lies within the training budget.
Stacks are chosen on out-of-fold log-loss only (the product's greedy selection); the holdout is read once.
Member scores are cached in --work, so a second run only stacks.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import joblib
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _candidates(n_rows: int) -> dict:
    """name -> (view, estimator); views: product views plus `raw13` and `embedding`."""
    from lightgbm import LGBMClassifier
    from sklearn.feature_selection import chi2
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline

    from classifier.members import MEMBERS, CachedKBest

    found = {spec.name: (spec.view, spec.build(42, n_rows)) for spec in MEMBERS if spec.view != "embedding"}
    found["lightgbm_large"] = ("trees", make_pipeline(CachedKBest(chi2, k=20_000), LGBMClassifier(
        n_estimators=400, learning_rate=0.1, num_leaves=31, max_bin=63, colsample_bytree=0.3,
        min_child_samples=10, random_state=42, n_jobs=1, verbose=-1)))
    found["logreg_raw_c100"] = ("raw13", LogisticRegression(C=100.0, max_iter=2000))
    found["mlp"] = ("sparse", MLPClassifier(hidden_layer_sizes=(128,), early_stopping=True, max_iter=30,
                                            batch_size=256, n_iter_no_change=3, random_state=42))
    found["knn_cosine"] = ("sparse", KNeighborsClassifier(n_neighbors=15, metric="cosine", weights="distance",
                                                          algorithm="brute"))
    found["embedding_logreg"] = ("embedding", LogisticRegression(C=5.0, max_iter=500))
    return found


def _views(work: Path, datasets: Path, embeddings: bool) -> dict:
    """Product features for the CLI's split, cached; `raw13` is plain TF-IDF 1-3 grams (no sublinear tf)."""
    cache = work / "views.joblib"
    if cache.exists():
        views = joblib.load(cache)
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from classifier.dataset import holdout_split, load_labeled, read_csvs
        from classifier.features import TicketFeaturizer
        from classifier.training import prepare_all

        data = load_labeled(read_csvs([datasets / "endava-it-tickets/tickets.csv"]), ["Document"], ["Topic_group"])
        labels = data.labels["Topic_group"]
        train, test = holdout_split(labels, 0.2, 42)
        prepared = {part: prepare_all([data.tickets[i] for i in index], "UTC")
                    for part, index in (("train", train), ("test", test))}
        featurizer = TicketFeaturizer("UTC", use_embeddings=False).fit(prepared["train"])
        raw = TfidfVectorizer(ngram_range=(1, 3), dtype=np.float32).fit(prepared["train"].texts)
        classes = sorted(set(labels.tolist()))
        views = {"y": {"train": np.searchsorted(classes, labels[train]), "test": np.searchsorted(classes, labels[test])},
                 "texts": {part: p.texts for part, p in prepared.items()}}
        for part, p in prepared.items():
            fitted = featurizer.transform(p)
            views[part] = {"sparse": fitted.sparse, "trees": fitted.trees, "raw13": raw.transform(p.texts)}
        joblib.dump(views, cache)
    if embeddings and "embedding" not in views["train"]:
        from classifier.embeddings import TextEncoder, configured_model

        encoder = TextEncoder(configured_model())
        for part in ("train", "test"):
            views[part]["embedding"] = encoder.encode(views["texts"][part])
        joblib.dump(views, cache)
    return views


def _member(name: str, view: str, estimator, views: dict, work: Path) -> dict:
    from classifier.members import DenseLabels
    from classifier.stacking import make_folds, out_of_fold

    cache = work / f"member_{name}.joblib"
    if cache.exists():
        return joblib.load(cache)
    y = views["y"]["train"]
    n_classes = int(max(y.max(), views["y"]["test"].max())) + 1
    started = time.perf_counter()
    oof = out_of_fold(estimator, views["train"][view], y, n_classes, make_folds(y, 3, 42))
    middle = time.perf_counter()
    holdout = DenseLabels(estimator, n_classes).fit(views["train"][view], y).scores(views["test"][view])
    scores = {"oof": oof, "holdout": holdout, "oof_seconds": middle - started,
              "fit_seconds": time.perf_counter() - middle}
    joblib.dump(scores, cache)
    return scores


def _stack(names: list[str], scores: dict, views: dict) -> dict:
    """The product's path: stacker on out-of-fold scores, temperature from held-out stacker logits."""
    from sklearn.metrics import f1_score

    from classifier.calibration import apply_temperature, expected_calibration_error, fit_temperature
    from classifier.label_model import stack_inputs, stacker_logits
    from classifier.stacking import held_out_stacker_logits, make_folds, new_stacker

    y, truth = views["y"]["train"], views["y"]["test"]
    n_classes = scores[names[0]]["oof"].shape[1]
    oof = [scores[name]["oof"] for name in names]
    temperature = fit_temperature(held_out_stacker_logits(oof, y, n_classes, make_folds(y, 3, 42), 42), y)
    stacker = new_stacker(42).fit(stack_inputs(oof), y)
    logits = stacker_logits(stacker, stack_inputs([scores[name]["holdout"] for name in names]), n_classes)
    probabilities = apply_temperature(logits, temperature)
    predicted, confidence = probabilities.argmax(1), probabilities.max(1)
    right = predicted == truth
    routed = confidence >= 0.7
    return {"accuracy": right.mean(), "macro_f1": f1_score(truth, predicted, average="macro"),
            "ece": expected_calibration_error(confidence, right), "routed": routed.mean(),
            "right_routed": right[routed].mean(),
            "fit_seconds": sum(scores[name]["oof_seconds"] + scores[name]["fit_seconds"] for name in names)}


def main() -> None:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", ConvergenceWarning)  # the ten-member stacker's solver; scores are printed

    from config.validation import load_settings
    from classifier.stacking import make_folds, select_members

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/triage-bench-members"))
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--embeddings", action="store_true", help="add the MiniLM member (about 10 min to encode)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    views = _views(args.work, (args.datasets or load_settings().triage_datasets_dir).resolve(), args.embeddings)
    y, truth = views["y"]["train"], views["y"]["test"]
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    scores = {}
    print(f"{'member':<18}{'oof acc':>9}{'holdout':>9}{'seconds':>9}", flush=True)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, (view, estimator) in _candidates(len(y)).items():
            if (wanted and name not in wanted) or view not in views["train"]:
                continue
            scores[name] = _member(name, view, estimator, views, args.work)
            seconds = scores[name]["oof_seconds"] + scores[name]["fit_seconds"]
            print(f"{name:<18}{(scores[name]['oof'].argmax(1) == y).mean():>9.4f}"
                  f"{(scores[name]['holdout'].argmax(1) == truth).mean():>9.4f}{seconds:>9.0f}", flush=True)
        n_classes = scores[next(iter(scores))]["oof"].shape[1]
        chosen, _ = select_members({name: s["oof"] for name, s in scores.items()}, y, n_classes,
                                   make_folds(y, 3, 42), 42)
        stacks = {"selected on oof log-loss": chosen, "every candidate": list(scores)}
        product = [name for name in ("linear_svm", "lightgbm") if name in scores]
        if len(product) == 2:
            stacks["product default (linear_svm + lightgbm)"] = product
        print()
        for title, names in stacks.items():
            result = _stack(names, scores, views)
            print(f"{title}: {' + '.join(names)}")
            print("  accuracy {accuracy:.4f}  macro-F1 {macro_f1:.4f}  ECE {ece:.4f}  routed at 0.7 {routed:.3f}"
                  "  right among routed {right_routed:.4f}  member fitting {fit_seconds:.0f} s".format(**result), flush=True)


if __name__ == "__main__":
    main()
