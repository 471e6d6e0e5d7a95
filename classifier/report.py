"""A self-contained HTML evaluation report: summary (beside the model in service), class-by-class comparison,
routing and calibration charts, the most confident mistakes, confusion matrix and SHAP importances of the
tree members (computed here, off the hot path, on a small sample). Every ticket text and label is escaped."""
from __future__ import annotations

import html
import logging
from pathlib import Path

import numpy as np

from classifier.features import prepare
from classifier.model import TicketClassifier
from classifier.report_charts import calibration_chart, confusion_heatmap, coverage_chart, f1_bars
from classifier.signals import FEATURE_NAMES

log = logging.getLogger(__name__)

SHAP_SAMPLE = 200
TREE_MEMBERS = ("lightgbm", "xgboost", "random_forest")
METRICS = {"n": ("Tickets", "count"), "accuracy": ("Accuracy", "score"),
           "macro_f1": ("Macro-F1 (every class weighs the same)", "score"),
           "weighted_f1": ("Weighted F1 (classes weigh by size)", "score"),
           "ece": ("Calibration error (ECE; 0 is perfect)", "score")}
CONFORMAL = {"coverage": "Conformal: true category in the set", "auto_routed": "Conformal: sets of one category",
             "error_among_auto_routed": "Conformal: wrong among those", "mean_set_size": "Conformal: mean set size"}
SIGNALS = {"log_chars": "length (characters)", "log_words": "length (words)", "mean_word_len": "mean word length",
           "readability": "readability", "urgent_words": "urgent words", "exclamations": "exclamation marks",
           "triple_bang": "'!!!'", "capital_share": "share of capitals", "sentiment": "sentiment",
           "has_time": "has a creation time", "hour_sin": "hour of day (sin)", "hour_cos": "hour of day (cos)",
           "weekday": "weekday", "business_hours": "within business hours", "tier_rank": "customer tier"}


def shap_importances(model: TicketClassifier, tickets: list, top: int = 15) -> dict[str, list[tuple[str, float]] | str]:
    """Mean |SHAP| per input feature for each tree member of the main label (or why the explainer failed)."""
    import shap

    main = model.label_models[0]
    trees = [name for name in main.members if name in TREE_MEMBERS]
    if not trees or not tickets:
        return {}
    prepared = prepare(tickets[:SHAP_SAMPLE], model.timezone, model.text_normalisation)
    views = model.featurizer.transform(prepared, need_embedding=False)
    names = np.concatenate([[f"word “{t}”" for t in model.featurizer.term_names()],
                            [SIGNALS.get(n, n.replace("lang_", "language: ")) for n in FEATURE_NAMES]])
    result = {}
    for name in trees:
        pipeline = main.members[name].estimator_
        if pipeline is None:
            continue
        selector, booster = pipeline[0], pipeline[-1]
        X = selector.transform(views.trees)
        X = X.toarray() if hasattr(X, "toarray") else X
        try:
            values = shap.TreeExplainer(booster).shap_values(X)
        except Exception as exc:  # an explainer failing must not cost the whole report
            log.warning("SHAP for %s failed: %s", name, exc)
            result[name] = f"SHAP failed for this member: {str(exc)[:300]}"
            continue
        values = np.abs(np.asarray(values))
        per_feature = values.reshape(-1, X.shape[1]) if values.shape[-1] == X.shape[1] else \
            np.moveaxis(values, 1, -1).reshape(-1, X.shape[1])
        mean = per_feature.mean(axis=0)
        chosen = names[selector.get_support(indices=True)]
        order = np.argsort(-mean)[:top]
        result[name] = [(str(chosen[i]), float(mean[i])) for i in order]
    return result


def _cell(value, kind: str = "") -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "count":
        return f"{value:,}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(headers: list[str], rows: list[list[object]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(f'<tr{f" class={chr(34)}{classes[i]}{chr(34)}" if classes and classes[i] else ""}>'
                   + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for i, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def _delta(new, old) -> str:
    return "–" if new is None or old is None else f"{new - old:+.3f}"


def summary_table(result: dict, service: dict | None) -> str:
    rows, old = [], service or {}

    def add(label: str, new, before, kind: str, delta: bool = False) -> None:
        rows.append([label, _cell(new, kind)] + ([_cell(before, kind), _delta(new, before) if delta else ""]
                                                 if service else []))

    for key, (label, kind) in METRICS.items():
        add(label, result.get(key), old.get(key), kind, delta=kind == "score")
    routed, old_routed = result.get("routed") or {}, old.get("routed") or {}
    if routed:
        add(f"Auto-routed at confidence ≥ {routed['threshold']:g}", routed["share"], old_routed.get("share"), "share")
        add("Right among those", routed["accuracy"], old_routed.get("accuracy"), "share")
    conformal, old_conformal = result.get("conformal") or {}, old.get("conformal") or {}
    for key, label in CONFORMAL.items() if conformal else ():
        add(label, conformal[key], old_conformal.get(key), "score" if key == "mean_set_size" else "share")
    latency = result.get("latency_ms") or {}
    if latency.get("p50") is not None:
        add("Time per ticket, p50 / p99", f"{latency['p50']:.1f} / {latency['p99']:.1f} ms", None, "")
    return _table(["", "this model"] + (["in service", "difference"] if service else []), rows)


def comparison_table(result: dict, service: dict) -> str:
    """Per class: precision, recall and F1 of both models side by side, with the change in F1."""
    new, old = result["per_class"], service["per_class"]
    rows, marks = [], []
    for name in sorted(set(new) | set(old)):
        a, b = new.get(name, {}), old.get(name, {})
        change = None if not a or not b else a["f1"] - b["f1"]
        rows.append([name, _cell(a.get("support") or b.get("support"), "count"),
                     _cell(a.get("precision")), _cell(b.get("precision")), _cell(a.get("recall")), _cell(b.get("recall")),
                     _cell(a.get("f1")), _cell(b.get("f1")), "–" if change is None else f"{change:+.3f}"])
        marks.append("" if change is None or abs(change) < 0.005 else ("better" if change > 0 else "worse"))
    return _table(["class", "tickets", "precision (this)", "precision (in service)", "recall (this)",
                   "recall (in service)", "F1 (this)", "F1 (in service)", "F1 change"], rows, marks)


def mistakes_table(examples: list[dict]) -> str:
    """Highest-confidence wrong predictions; `row` (the data row, 1 = first) only when it is known."""
    if not examples:
        return "<p>No wrong predictions.</p>"
    rows_known = all("row" in e for e in examples)
    rows = [([e["row"]] if rows_known else []) + [f"{e['confidence']:.1%}", e["truth"], e["predicted"], e["text"]]
            for e in examples]
    headers = (["data row"] if rows_known else []) + ["confidence", "true category", "predicted",
                                                      "ticket text (cleaned, first 200 characters)"]
    return _table(headers, rows).replace("<table>", '<table class="mistakes">', 1)


def _warnings(result: dict) -> str:
    overlap = result.get("overlap") or {}
    if overlap.get("rows"):
        return (f'<p class="warning">{overlap["rows"]:,} of {result["n"]:,} evaluated tickets ({overlap["share"]:.1%}) '
                "also appear in this model's training data: these figures are optimistic.</p>")
    if overlap and overlap.get("rows") is None:
        return ('<p class="note">This model keeps no hashes of its training texts: overlap with its training data '
                "could not be checked.</p>")
    return ""


STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1300px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}tr.better td:last-child{color:#1a7f37;font-weight:bold}
tr.worse td:last-child{color:#c62828;font-weight:bold}table.mistakes td,table.mistakes th{text-align:left}
table.mistakes td:last-child{max-width:640px}
.charts{display:flex;flex-wrap:wrap;gap:24px}.warning{background:#fff3cd;border:1px solid #e0b400;padding:.6em 1em}
.note{color:#555}.heatmap td.diagonal{outline:2px solid #222}svg{max-width:100%;height:auto}"""


def render(model: TicketClassifier, result: dict, importances: dict, service: dict | None = None,
           service_note: str = "") -> str:
    version = html.escape(model.version)
    members = html.escape(", ".join(model.label_models[0].members))
    confusion = result.get("confusion", {"labels": [], "matrix": []})
    heatmap = confusion_heatmap(confusion["labels"], confusion["matrix"])
    coverage = [[f"{c['threshold']:g}", _cell(c["coverage"], "share"), _cell(c["accuracy"], "share")]
                for c in result["coverage"]]
    chosen = (result.get("routed") or {}).get("threshold")
    classes = sorted(set(result["per_class"]) | set((service or {}).get("per_class", {})))
    f1 = {name: v["f1"] for name, v in result["per_class"].items()}
    old_f1 = {name: v["f1"] for name, v in service["per_class"].items()} if service else None
    if service:
        compared = (f"<h2>Against the model in service ({html.escape(service.get('model_version', '?'))})</h2>"
                    f"<p>Both models scored on the same {result['n']:,} tickets.</p>{comparison_table(result, service)}")
    else:
        per_class = [[name, _cell(v["precision"]), _cell(v["recall"]), _cell(v["f1"]), _cell(v["support"], "count")]
                     for name, v in result["per_class"].items()]
        compared = (f"<h2>Per class</h2><p class=\"note\">{html.escape(service_note)}</p>"
                    + _table(["class", "precision", "recall", "F1", "tickets"], per_class))
    shap_html = "".join(f"<h3>{html.escape(name)}</h3>" + (
        f'<p class="note">{html.escape(pairs)}</p>' if isinstance(pairs, str) else
        _table(["feature", "mean |SHAP|"], [[f, f"{v:.4f}"] for f, v in pairs]))
        for name, pairs in importances.items()) or "<p>No tree member in this model.</p>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>triage evaluation {version}</title>
<style>{STYLE}</style></head><body>
<h1>Evaluation of model {version}</h1>
<p>{result['n']:,} tickets. Members kept: {members}.</p>{_warnings(result)}
<h2>Summary</h2>{summary_table(result, service)}
{compared}<div class="charts">{f1_bars(classes, f1, old_f1)}</div>
<h2>Routing and calibration</h2><div class="charts">{coverage_chart(result["coverage"], chosen)}
{calibration_chart(result.get("reliability", []))}</div>
{_table(["confidence threshold", "share auto-routed", "accuracy among them"], coverage)}
<h2>Most confident mistakes</h2>{mistakes_table(result.get("misclassified", []))}
<h2>Confusion matrix (rows: true category, columns: predicted)</h2>{heatmap}
<h2>What the tree members look at (mean |SHAP| on {min(SHAP_SAMPLE, result['n'])} tickets)</h2>{shap_html}
</body></html>"""


def write_report(path: Path, model: TicketClassifier, result: dict, tickets: list, service: dict | None = None,
                 service_note: str = "") -> None:
    Path(path).write_text(render(model, result, shap_importances(model, tickets), service, service_note),
                          encoding="utf-8")
