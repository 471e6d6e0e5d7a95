"""Drift: population stability index (PSI) of what the model sees and says now (categories, confidence,
length, language mix, top terms) against its training reference, the share of low-confidence tickets,
and accuracy measured from corrections per segment.

PSI = sum((a - e) * ln(a / e)) over the buckets of two distributions (shares, smoothed so an empty
bucket is not infinite). Rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 a real shift.
The reference is written into the model's manifest at retraining (`reference_profile`); a model without
one (the starter) is compared with the window before the current one instead.

The decision is not a fixed PSI constant: `learning.drift_signals` compares out-of-vocabulary share,
confidence, class mix and embedding distance with thresholds set from the reference's own held-out tickets
for the window size observed (rows `oov_share`, `mean_confidence`, `class_mix`, `embedding_distance`, with
`threshold` and `fired` in `detail`). The PSI rows stay as description.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from classifier.drift_profile import profile
from classifier.drift_reference import per_ticket, sketch
from store.models import DriftCheck
from learning import drift_signals, live_window

WINDOW_DAYS = 7
EPSILON = 1e-4


def psi(expected: dict[str, float], actual: dict[str, float]) -> float:
    total = 0.0
    for bucket in set(expected) | set(actual):
        e, a = max(expected.get(bucket, 0.0), EPSILON), max(actual.get(bucket, 0.0), EPSILON)
        total += (a - e) * math.log(a / e)
    return round(total, 4)


def check(session, reference: dict | None, model_version: str | None, now: datetime) -> list[DriftCheck]:
    """Compute this window's figures, add them to the session as `drift_checks` rows and return them."""
    since = now - timedelta(days=WINDOW_DAYS)
    rows = live_window.window(session, since, now)
    base, earlier = "training reference", None
    if not reference or not reference.get("n"):
        earlier = live_window.window(session, since - timedelta(days=WINDOW_DAYS), since)
        reference, base = _profile_of(earlier, None), "previous window"
    terms = [t for t in (reference.get("terms") or {}) if t != "(other)"] or None
    current = _profile_of(rows, terms)
    checks = []
    if rows and reference.get("n"):
        for name in [n for n in ("category", "confidence", "length", "language", "terms") if n in reference]:
            checks.append(DriftCheck(metric=f"psi_{name}", value=psi(reference[name], current[name]), n=len(rows),
                                     detail={"against": base, "reference": _top(reference[name]),
                                             "current": _top(current[name])}))
    checks += _signal_rows(rows, (reference or {}).get("sketch"), earlier, since, session, base)
    share, n = live_window.low_confidence_share(rows)
    checks.append(DriftCheck(metric="low_confidence", value=share, n=n, detail={}))
    for segment, (accuracy, judged) in sorted(live_window.measured_accuracy(rows).items()):
        checks.append(DriftCheck(metric="accuracy", segment=segment, value=accuracy, n=judged,
                                 detail={"window_days": WINDOW_DAYS}))
    for row in checks:
        row.checked_at, row.model_version = now, model_version
        row.segment = row.segment or "all"
        session.add(row)
    return checks


def run_check(store, registry, now: datetime) -> list[dict]:
    """One drift check against the current model's reference (none for a model without one), recorded in
    the store; what the clock's daily job and `triage learning drift` both run."""
    from classifier.artifact import ArtifactError, read_manifest
    from classifier.registry import RegistryError

    try:
        manifest = read_manifest(registry.current_path())
    except (ArtifactError, RegistryError):
        manifest = {}
    with store.session() as session:
        rows = check(session, manifest.get("drift_reference"), manifest.get("version"), now)
        return [{"metric": r.metric, "segment": r.segment, "value": r.value, "n": r.n,
                 **({key: r.detail[key] for key in ("threshold", "fired")} if "fired" in (r.detail or {}) else {})}
                for r in rows]


def _signal_rows(rows, reference_sketch, earlier, since, session, base) -> list[DriftCheck]:
    """One row per drift signal against the reference's sketch; a model without one (trained before the
    sketch existed, or the starter) is held against the previous window instead."""
    if not reference_sketch:
        if earlier is None:
            earlier = live_window.window(session, since - timedelta(days=WINDOW_DAYS), since, with_text=False)
        reference_sketch, base = sketch([_statistics(row) for row in earlier]), "previous window"
    found = drift_signals.signals(reference_sketch, [_statistics(row) for row in rows])
    return [DriftCheck(metric=s.metric, value=s.value, n=s.n,
                       detail={"against": base, "threshold": s.threshold, "fired": s.fired, "side": s.side,
                               "normal": s.normal, "quantile": drift_signals.QUANTILE}) for s in found]


def _statistics(row) -> dict:
    return per_ticket(row.category, row.confidence, row.derived)


def _profile_of(rows, terms) -> dict:
    texts = [row.text for row in rows if row.text]
    return profile([row.category for row in rows], [row.language for row in rows], texts, terms,
                   [row.confidence for row in rows])


def _top(distribution: dict[str, float], k: int = 8) -> dict[str, float]:
    return {key: round(value, 3) for key, value in sorted(distribution.items(), key=lambda kv: -kv[1])[:k]}
