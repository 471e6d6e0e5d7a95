"""Fits a TicketClassifier: shared features, then per label out-of-fold members, selection, stacker, the
choice between the stack and a plain model (classifier.candidates), calibration, the routing thresholds and the
conformal quantile. Progress goes to an optional `classifier.progress.Progress`
(stages, member folds weighted by each member's rough cost) and to the `classifier.training` logger."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from classifier.calibration import (apply_temperature, conformal_quantile, expected_calibration_error, fit_temperature,
                                    singleton_threshold)
from classifier.candidates import STACK, compare
from classifier.embedding_probe import PROBE_MIN_ROWS, embeddings_pay, probe_sample
from classifier.embeddings import configured_model
from classifier.extras import install_hint, installed, require
from classifier.features import FeatureViews, PreparedTickets, TicketFeaturizer, prepare
from classifier.label_model import LabelModel, stack_inputs
from classifier.members import MEMBERS, MemberSpec, member_spec
from classifier.model import TicketClassifier
from classifier.normalisation import VERSION as TEXT_NORMALISATION
from classifier.progress import Progress, silent
from classifier.selective import SELECTIVE, choose_thresholds
from classifier.stacking import choose_stacker, fit_member, fit_stacker, make_folds, out_of_fold, select_members
from classifier.ticket import Ticket
from classifier.evaluation import TRAINING_HASHES, text_hashes

log = logging.getLogger(__name__)

EMBEDDING_AUTO_MAX_ROWS = 12_000  # MiniLM encodes ~120 tickets/s on 2 cores: more would eat the budget
PARALLEL_PREPARE_ROWS = 4_000
LARGE_DATA_ROWS = 20_000
# Skipped by default on large data (name it in --members to keep it): on Endava (30k rows) the random
# forest was the weakest member out-of-fold (0.811 vs 0.85-0.86), never kept, and 60 s of the budget.
LARGE_DATA_SKIPS = ("random_forest",)
# A member whose first fold is this far (accuracy) behind the best first fold so far stops there: on a
# 70-group incident set LightGBM (0.20), XGBoost (0.62) and the forest (0.62) trailed the linear members
# (0.73) and were never kept, yet took most of 14 minutes. Members run cheapest first, so the bar is set early.
SCREEN_MARGIN = 0.06


# The `thorough` profile (the weekly retrain, when its budget allows): five folds at any size, no member skipped
# for size, embeddings up to THOROUGH_EMBEDDING_MAX_ROWS, and the small LightGBM beside the large one.
THOROUGH_EMBEDDING_MAX_ROWS = 50_000


@dataclass
class TrainOptions:
    seed: int = 42
    alpha: float = 0.05  # conformal error rate
    members: tuple[str, ...] | None = None  # None: every candidate
    embeddings: str = "auto"  # auto | on | off
    embedding_model: str | None = None  # None: settings / packaged default
    n_folds: int | None = None  # None: 5 on small data, 3 on large
    timezone: str = "UTC"
    params: dict | None = None  # member name -> estimator parameters (from tuning)
    target_precision: float = 0.95  # routing threshold chosen on held-out rows (classifier.selective)
    profile: str = "default"  # default | thorough (TRIAGE_RETRAIN_PROFILE, triage train --profile)


def prepare_all(tickets: list[Ticket], timezone: str) -> PreparedTickets:
    if len(tickets) < PARALLEL_PREPARE_ROWS:
        return prepare(tickets, timezone)
    chunks = np.array_split(np.arange(len(tickets)), 8)
    try:
        parts = Parallel(n_jobs=2)(delayed(prepare)([tickets[i] for i in chunk], timezone) for chunk in chunks)
    finally:
        # joblib keeps its two worker processes for reuse; left running they outlive training (in the clock's
        # retrain, for hours) and the interpreter warns of leaked semaphores when it exits
        get_reusable_executor().shutdown(wait=True)
    return PreparedTickets(
        texts=[t for part in parts for t in part.texts],
        languages=[lang for part in parts for lang in part.languages],
        sentiments=[s for part in parts for s in part.sentiments],
        signals=np.vstack([part.signals for part in parts]),
    )


def _use_embeddings(options: TrainOptions, n_rows: int) -> bool:
    """`auto` leaves embeddings out when the optional extra is missing; `on` then fails, naming the extra."""
    if options.members is not None and "embedding_logreg" not in options.members:
        return False
    if options.embeddings == "auto":
        if n_rows > (THOROUGH_EMBEDDING_MAX_ROWS if options.profile == "thorough" else EMBEDDING_AUTO_MAX_ROWS):
            return False
        if not installed("embeddings"):
            log.info("embeddings off: %s", install_hint("embeddings", "the optional extra 'embeddings' is not installed"))
            return False
        return True
    if options.embeddings == "on":
        require("sentence_transformers", "--embeddings on")
        return True
    return False


def _probe_embeddings(featurizer: TicketFeaturizer, prepared: PreparedTickets, values, seed: int):
    """Views with embeddings only if a sample says they pay (classifier.embedding_probe); the probe's figures."""
    views = featurizer.transform(prepared, need_embedding=False)
    values = np.asarray(values)
    y = np.searchsorted(sorted(set(values.tolist())), values)
    sample = probe_sample(len(y), seed)
    vectors = featurizer.encoder_.encode([prepared.texts[i] for i in sample])
    pays, figures = embeddings_pay(views.sparse[sample], featurizer.embedding_view(prepared.signals[sample], vectors),
                                   y[sample], seed)
    figures["embedded"] = pays
    if not pays:
        log.info("embeddings left out: on %d sampled tickets they lowered the stack's log-loss by %.4f (less than %s)",
                 len(sample), figures["gain"], figures["min_gain"])
        featurizer.drop_embeddings()
        return views, figures
    rest = np.setdiff1d(np.arange(len(y)), sample)
    every = np.zeros((len(y), vectors.shape[1]), dtype=np.float32)
    every[sample] = vectors
    if len(rest):
        every[rest] = featurizer.encoder_.encode([prepared.texts[i] for i in rest])
    views.embedding = featurizer.embedding_view(prepared.signals, every)
    return views, figures


def fit_classifier(tickets: list[Ticket], labels: dict[str, np.ndarray], options: TrainOptions | None = None,
                   progress: Progress | None = None) -> tuple[TicketClassifier, dict]:
    """BLAS runs single-threaded here: its spinning threads made the stacker 14x slower (79 s vs 5.7 s)
    whenever another process held the second core, and the matrices are too small to gain from two."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_classifier(tickets, labels, options or TrainOptions(), progress or silent())


def _fit_classifier(tickets: list[Ticket], labels: dict[str, np.ndarray],
                    options: TrainOptions, progress: Progress) -> tuple[TicketClassifier, dict]:
    started = time.perf_counter()
    progress.stage("features", note=f"{len(tickets):,} tickets")
    prepared = prepare_all(tickets, options.timezone)
    log.info("prepared %d tickets in %.1fs", len(tickets), time.perf_counter() - started)
    embed = _use_embeddings(options, len(tickets))
    model_name = (options.embedding_model or configured_model()) if embed else None
    featurizer = TicketFeaturizer(options.timezone, use_embeddings=embed, embedding_model=model_name).fit(prepared)
    probe = None
    if embed and options.embeddings == "auto" and len(tickets) > PROBE_MIN_ROWS:
        views, probe = _probe_embeddings(featurizer, prepared, next(iter(labels.values())), options.seed)
        model_name = model_name if probe["embedded"] else None
    else:
        views = featurizer.transform(prepared)
    log.info("features ready in %.1fs (embeddings: %s)", time.perf_counter() - started, model_name or "off")
    label_models, report = [], {"embedding_model": model_name, "embedding_probe": probe, "labels": {}}
    for name, values in labels.items():
        label_model, label_report = fit_label(name, np.asarray(values), views, featurizer.term_names(), options,
                                              progress)
        label_models.append(label_model)
        report["labels"][name] = label_report
    report["train_seconds"] = round(time.perf_counter() - started, 1)
    model = TicketClassifier(featurizer, label_models, options.timezone, TEXT_NORMALISATION)  # as prepare_all read them
    # every model knows what it was trained on, so `evaluate` can tell when its data overlaps (all callers:
    # train, the clock's retrain, the starter model)
    setattr(model, TRAINING_HASHES, text_hashes(tickets))
    setattr(model, SELECTIVE, report["labels"][next(iter(labels))]["selective"])  # the main label's
    return model, report


def _build(name: str, options: TrainOptions, n_rows: int, n_classes: int):
    estimator = member_spec(name).build(options.seed, n_rows, n_classes)
    params = (options.params or {}).get(name)
    return estimator.set_params(**params) if params else estimator


def candidate_members(options: TrainOptions, n_rows: int, n_classes: int) -> list[MemberSpec]:
    """The members to try, cheapest first: those named in `options.members`, else the profile's."""
    if options.members is not None:
        chosen = [spec for spec in MEMBERS if spec.name in options.members]
    elif options.profile == "thorough":
        chosen = [spec for spec in MEMBERS if not spec.thorough_only or spec.useful(n_rows, n_classes)]
    else:
        chosen = [spec for spec in MEMBERS if not spec.thorough_only]
        if n_rows > LARGE_DATA_ROWS:
            chosen = [spec for spec in chosen if spec.name not in LARGE_DATA_SKIPS]
            log.info("%d rows: skipping %s (pass --members or --profile thorough to include them)", n_rows,
                     ", ".join(LARGE_DATA_SKIPS))
    return sorted(chosen, key=lambda spec: spec.cost)


def fit_label(name: str, values: np.ndarray, views: FeatureViews, term_names, options: TrainOptions,
              progress: Progress | None = None):
    progress = progress or silent()
    classes = sorted(set(values.tolist()))
    y = np.searchsorted(classes, values)
    n_classes, n_rows = len(classes), len(y)
    thorough = options.profile == "thorough"
    folds = make_folds(y, options.n_folds or (5 if n_rows <= 10_000 or thorough else 3), options.seed)
    candidates = [spec for spec in candidate_members(options, n_rows, n_classes) if views.view(spec.view) is not None]
    progress.stage(f"{name}: members", total=sum(spec.cost for spec in candidates) * len(folds),
                   note=f"{len(candidates)} members x {len(folds)} folds")
    oof, members_report, skipped = {}, {}, {}
    first_fold = {}  # member -> accuracy on the first fold's rows, the bar the later members are screened against
    for number, spec in enumerate(candidates, start=1):
        progress.part(f"{spec.name} ({number}/{len(candidates)})")
        started = time.perf_counter()

        def screen(accuracy: float, member: str = spec.name) -> bool:
            first_fold[member] = accuracy
            best = max(first_fold.values())
            return accuracy >= best - SCREEN_MARGIN

        scores = out_of_fold(_build(spec.name, options, n_rows, n_classes), views.view(spec.view), y, n_classes,
                             folds, on_fold=lambda k, n, cost=spec.cost: progress.advance(cost, f"fold {k}/{n}"),
                             screen=screen if options.members is None and not spec.plain else None)
        seconds = round(time.perf_counter() - started, 1)
        if scores is None:
            leader = max(first_fold, key=first_fold.get)
            skipped[spec.name] = {
                "first_fold_accuracy": round(first_fold[spec.name], 4), "leader": leader,
                "leader_accuracy": round(first_fold[leader], 4), "seconds": seconds,
                "reason": f"first fold accuracy {first_fold[spec.name]:.3f}, more than {SCREEN_MARGIN:.2f} behind "
                          f"{leader} ({first_fold[leader]:.3f})"}
            progress.advance(spec.cost * (len(folds) - 1))
            log.info("%s member %s stopped after one fold: %s", name, spec.name, skipped[spec.name]["reason"])
            continue
        oof[spec.name] = scores
        members_report[spec.name] = _scores(scores, y, n_classes)
        members_report[spec.name]["oof_seconds"] = seconds
        log.info("%s member %s: oof accuracy %.4f in %.1fs", name, spec.name,
                 members_report[spec.name]["accuracy"], members_report[spec.name]["oof_seconds"])
    progress.stage(f"{name}: stacking", note="choosing members on held-out log-loss")
    chosen, steps = select_members(oof, y, n_classes, folds, options.seed,
                                   on_trial=lambda names: progress.advance(0, "trying " + " + ".join(names)))
    log.info("%s: kept members %s", name, chosen)
    kind, stacker_losses, held_out = choose_stacker([oof[member] for member in chosen], y, n_classes, folds,
                                                    options.seed)
    progress.stage(f"{name}: stack or plain", note="nested comparison on held-out rows")
    comparison = compare(oof, [spec.name for spec in candidates if spec.plain], y, n_classes, options.seed, kind)
    log.info("%s: %s", name, comparison["reason"])
    if comparison["shipped"] != STACK:
        chosen, kind = [comparison["shipped"]], "single"
        held_out = stack_inputs([oof[comparison["shipped"]]])
    chosen_oof = [oof[member] for member in chosen]
    progress.stage(f"{name}: calibration")
    temperature = fit_temperature(held_out, y)
    calibrated = apply_temperature(held_out, temperature)
    quantile = conformal_quantile(calibrated, y, options.alpha)
    floor = singleton_threshold(calibrated, y, quantile, options.alpha)
    held_out_predicted = calibrated.argmax(1)
    selective = choose_thresholds(calibrated.max(1), np.asarray(classes, dtype=object)[held_out_predicted],
                                  held_out_predicted == y, options.target_precision,
                                  class_counts=dict(zip(classes, np.bincount(y, minlength=n_classes).tolist())))
    stacker = fit_stacker(chosen_oof, y, options.seed, kind)
    progress.stage(f"{name}: refit", total=sum(member_spec(member).cost for member in chosen),
                   note=f"{len(chosen)} kept member{'s' if len(chosen) > 1 else ''} on all {n_rows:,} rows")
    fitted = {}
    for member in chosen:
        spec = member_spec(member)
        progress.part(member)
        fitted[member] = fit_member(_build(member, options, n_rows, n_classes), views.view(spec.view), y, n_classes)
        progress.advance(spec.cost)
    label_model = LabelModel(name, classes, fitted, {m: member_spec(m).view for m in chosen}, stacker,
                             temperature, quantile, options.alpha, _term_weights(views, y, n_classes), term_names,
                             singleton_floor=floor)
    report = {"members": members_report, "skipped": skipped, "selection": steps, "kept": chosen,
              "stacker": kind, "stacker_log_loss": stacker_losses, "comparison": comparison,
              "stacked_oof": _scores(calibrated, y, n_classes), "temperature": round(temperature, 4),
              "conformal_quantile": round(quantile, 4), "singleton_floor": round(floor, 4), "alpha": options.alpha,
              "selective": selective}
    return label_model, report


def _term_weights(views: FeatureViews, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class linear weights on word TF-IDF, for the fast per-ticket explanation."""
    svm = LinearSVC(C=0.3).fit(views.words, y)
    weights = np.zeros((n_classes, views.words.shape[1]), dtype=np.float32)
    coef = svm.coef_.astype(np.float32)
    if coef.shape[0] == 1:
        coef = np.vstack([-coef[0], coef[0]])
    weights[svm.classes_] = coef
    return weights


def _scores(probabilities: np.ndarray, y: np.ndarray, n_classes: int) -> dict:
    predicted = probabilities.argmax(1)
    clipped = np.clip(probabilities, 1e-9, 1)
    clipped /= clipped.sum(axis=1, keepdims=True)
    return {
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
        "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4),
        "log_loss": round(float(log_loss(y, clipped, labels=np.arange(n_classes))), 4),
        "ece": round(expected_calibration_error(probabilities.max(1), predicted == y), 4),
    }
