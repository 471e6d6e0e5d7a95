"""A self-contained HTML evaluation report: summary, coverage curve, per-class table, confusion matrix
and SHAP importances of the tree members (computed here, off the hot path, on a small sample)."""
from __future__ import annotations

import html
import logging
from pathlib import Path

import numpy as np

from classifier.features import prepare
from classifier.model import TicketClassifier
from classifier.report_charts import calibration_chart, confusion_heatmap, coverage_chart
from classifier.signals import FEATURE_NAMES

log = logging.getLogger(__name__)

SHAP_SAMPLE = 200
TREE_MEMBERS = ("lightgbm", "xgboost", "random_forest")


def shap_importances(model: TicketClassifier, tickets: list, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """Mean |SHAP| per input feature for each tree member of the main label."""
    import shap

    main = model.label_models[0]
    trees = [name for name in main.members if name in TREE_MEMBERS]
    if not trees or not tickets:
        return {}
    views = model.featurizer.transform(prepare(tickets[:SHAP_SAMPLE], model.timezone), need_embedding=False)
    names = np.concatenate([model.featurizer.term_names(), np.array(FEATURE_NAMES)])
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
            continue
        values = np.abs(np.asarray(values))
        per_feature = values.reshape(-1, X.shape[1]) if values.shape[-1] == X.shape[1] else \
            np.moveaxis(values, 1, -1).reshape(-1, X.shape[1])
        mean = per_feature.mean(axis=0)
        chosen = names[selector.get_support(indices=True)]
        order = np.argsort(-mean)[:top]
        result[name] = [(str(chosen[i]), float(mean[i])) for i in order]
    return result


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render(model: TicketClassifier, result: dict, importances: dict) -> str:
    summary = [[key, result.get(key)] for key in ("n", "accuracy", "macro_f1", "weighted_f1", "ece")]
    summary.append(["latency p50 / p99 ms", f"{result['latency_ms']['p50']} / {result['latency_ms']['p99']}"])
    if "conformal" in result:
        summary += [[f"conformal {k}", v] for k, v in result["conformal"].items()]
    per_class = [[label, v["precision"], v["recall"], v["f1"], v["support"]] for label, v in result["per_class"].items()]
    coverage = [[c["threshold"], c["coverage"], c["accuracy"]] for c in result["coverage"]]
    confusion = result.get("confusion", {"labels": [], "matrix": []})
    shap_html = "".join(f"<h3>{html.escape(name)}</h3>" + _table(["feature", "mean |SHAP|"],
                                                                  [[f, f"{v:.4f}"] for f, v in pairs])
                        for name, pairs in importances.items()) or "<p>No tree member in this model.</p>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>triage evaluation {html.escape(model.version)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head><body>
<h1>Evaluation of model {html.escape(model.version)}</h1>
<p>Members kept: {html.escape(", ".join(model.label_models[0].members))}</p>
<h2>Summary</h2>{_table(["metric", "value"], summary)}
<h2>Coverage (auto-route at confidence threshold)</h2>{coverage_chart(result["coverage"])}
{_table(["threshold", "coverage", "accuracy"], coverage)}
<h2>Calibration</h2>{calibration_chart(result.get("reliability", []))}
<h2>Per class</h2>{_table(["class", "precision", "recall", "f1", "support"], per_class)}
<h2>Confusion matrix (rows: true, columns: predicted)</h2>{confusion_heatmap(confusion["labels"], confusion["matrix"])}
<h2>SHAP importances of the tree members</h2>{shap_html}
</body></html>"""


def write_report(path: Path, model: TicketClassifier, result: dict, tickets: list) -> None:
    Path(path).write_text(render(model, result, shap_importances(model, tickets)), encoding="utf-8")
