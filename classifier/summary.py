"""The short tables `triage train` and `triage evaluate` print for a person (stdout, without `--json`).

Pure functions of the commands' JSON results, so what a person reads and what a script reads never differ.
"""
from __future__ import annotations

from classifier.progress import format_duration


def aligned(rows: list[list[str]], indent: str = "  ", numbers: bool = True) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned (`numbers`) or left."""
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i and numbers else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _score(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _count(value: int, noun: str) -> str:
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def routing_rows(result: dict) -> list[list[str]]:
    """Routing at the confidence threshold, at the model's threshold for its target precision and by the
    conformal set, one metric row each."""
    rows = []
    routed = result.get("routed")
    if routed:
        right = f", {_share(routed['accuracy'])} of them right" if routed["accuracy"] is not None else ""
        rows.append([f"auto-routed at {routed['threshold']:.2f}", f"{_share(routed['share'])} of tickets{right}"])
    selective = result.get("selective")
    if selective and selective.get("target_precision") is not None:
        right = f", {_share(selective['accuracy'])} of them right" if selective["accuracy"] is not None else ""
        mixed = ", per category" if selective.get("per_category") else ""
        interval = selective.get("interval")
        if interval and selective["accuracy"] is not None:
            right += f" ({_share(interval[0])}-{_share(interval[1])})"
        rows.append([f"target precision {_share(selective['target_precision'])} ({selective['threshold']:.2f}{mixed})",
                     f"{_share(selective['coverage'])} of tickets{right}"])
        verdict = selective.get("verdict")
        if verdict and verdict.get("status") != "met":
            rows.append(["", verdict["message"]])
    conformal = result.get("conformal")
    if conformal:
        wrong = conformal.get("error_among_auto_routed")
        rows.append([f"conformal sets (alpha {conformal['alpha']:g})",
                     f"{_share(conformal['auto_routed'])} hold one category"
                     + (f", {_share(wrong)} of those wrong" if wrong is not None else "")])
    return rows


def metric_rows(result: dict) -> list[list[str]]:
    rows = [["accuracy", _score(result.get("accuracy"))], ["macro-F1", _score(result.get("macro_f1"))],
            ["calibration error (ECE)", _score(result.get("ece"))]]
    return rows + routing_rows(result)


def member_rows(report: dict) -> list[list[str]]:
    """Each candidate's out-of-fold scores, its stacking weight and time; then those stopped after their first
    fold (its accuracy, and the member they trailed); the stack last."""
    weights = report.get("weights") or {}
    rows = [["member", "accuracy", "macro-F1", "log-loss", "weight", "time", ""]]
    ordered = sorted(report["members"], key=lambda name: (name not in weights, -weights.get(name, 0.0)))
    for name in ordered:
        scores = report["members"][name]
        kept = name in weights
        rows.append([name, _score(scores["accuracy"]), _score(scores["macro_f1"]), _score(scores["log_loss"]),
                     f"{weights[name]:.0%}" if kept else "-", format_duration(scores.get("oof_seconds", 0)),
                     "" if kept else "not kept"])
    for name, why in (report.get("skipped") or {}).items():
        rows.append([name, _score(why["first_fold_accuracy"]), "", "", "-", format_duration(why["seconds"]),
                     f"stopped after fold 1 ({why['leader']} {why['leader_accuracy']:.3f})"])
    stacked = report.get("stacked_oof")
    if stacked:
        rows.append([f"stacked ({report.get('stacker', 'multinomial')}), calibrated", _score(stacked["accuracy"]),
                     _score(stacked["macro_f1"]), _score(stacked["log_loss"]), "", "", ""])
    return rows


def comparison_rows(comparison: dict) -> list[list[str]]:
    """The stack against the plain candidates on rows neither was tuned on (classifier.candidates), shipped first."""
    candidates = comparison.get("candidates") or {}
    if not candidates:
        return []
    rows = [["candidate", "accuracy", "std. error", "macro-F1", "stack minus this", ""]]
    order = sorted(candidates, key=lambda name: (name != comparison["shipped"], name != "stack", name))
    for name in order:
        scores = candidates[name]
        against = (f"{scores['stack_minus_this'] * 100:+.1f} ± {scores['difference_se'] * 100:.1f} points"
                   if "stack_minus_this" in scores else "")
        rows.append([name, _score(scores["accuracy"]), f"{scores['se']:.3f}", _score(scores["macro_f1"]), against,
                     "shipped" if name == comparison["shipped"] else ""])
    return rows


def _data_line(checks: dict) -> str:
    parts = [f"{checks['rows']:,} rows", f"{checks['used_rows']:,} used"]
    if checks.get("exact_duplicates"):
        parts.append(_count(checks["exact_duplicates"], "exact duplicate"))
    for key, value in checks.items():
        if isinstance(value, dict) and value.get("conflicting_texts"):
            parts.append(f"{_count(value['conflicting_texts'], 'text')} with more than one {key}")
    return "Data: " + ", ".join(parts)


def train_summary(result: dict) -> str:
    training = result["training"]
    where = "now the current model" if result.get("promoted") else ""
    lines = [f"Trained model {result['version']} in {format_duration(result.get('seconds', training['train_seconds']))}"
             f" (fitting {format_duration(training['train_seconds'])})",
             f"Saved to {result['model']}" + (f" ({where})" if where else ""), ""]
    if result.get("n"):
        lines.append(f"Holdout: {_count(result['n'], 'ticket')} the model did not train on")
        lines += aligned(metric_rows(result), numbers=False)
        overlap = result.get("holdout_overlap") or {}
        if overlap.get("rows"):
            lines.append(f"  ({overlap['rows']:,} of them, {_share(overlap['share'])}, repeat a training text: "
                         "these figures are a little optimistic)")
    else:
        lines.append("No holdout (--holdout 0): the out-of-fold figures below are the only estimate.")
    for label, report in training["labels"].items():
        lines += ["", f"Members for {label} (out-of-fold on the training rows; weight: share in the stack)"]
        lines += aligned(member_rows(report))
        comparison = report.get("comparison") or {}
        if comparison.get("candidates"):
            lines += ["", f"Stack or plain model for {label} (nested: {comparison['repeats']} x "
                          f"{comparison['outer_folds']} outer folds of the training rows, which neither was tuned on)"]
            lines += aligned(comparison_rows(comparison))
        if comparison.get("reason"):
            lines.append(f"  {comparison['reason'][0].upper()}{comparison['reason'][1:]}.")
    for label, scores in (result.get("fields") or {}).items():
        lines += ["", f"{label} on the holdout: accuracy {_score(scores['accuracy'])}, "
                      f"macro-F1 {_score(scores['macro_f1'])}, ECE {_score(scores['ece'])}"]
    if result.get("data_checks"):
        lines += ["", _data_line(result["data_checks"])]
    return "\n".join(lines)


def overlap_warning(overlap: dict | None, n: int) -> str | None:
    """The stderr warning when evaluation rows were training rows; None when none were."""
    if not overlap:
        return None
    if overlap.get("rows") is None:
        return ("note: this model keeps no hashes of its training texts (trained before they were kept, or not by "
                "`triage train`), so overlap with its training data could not be checked")
    if not overlap["rows"]:
        return None
    return (f"warning: {overlap['rows']:,} of {n:,} evaluation rows ({overlap['share']:.1%}) also appear in this "
            "model's training data: these figures are optimistic")


def evaluate_summary(result: dict, report_path=None) -> str:
    lines = [f"Model {result.get('model_version', '?')} on {_count(result['n'], 'ticket')}"]
    if not result["n"]:
        return lines[0]
    rows = metric_rows(result)
    rows.insert(2, ["weighted F1", _score(result.get("weighted_f1"))])
    conformal = result.get("conformal")
    if conformal:
        rows.append(["true category in the set", _share(conformal["coverage"])])
    latency = result.get("latency_ms") or {}
    if latency.get("p50") is not None:
        rows.append(["time per ticket", f"p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms"])
    lines += aligned(rows, numbers=False)
    table = [["class", "precision", "recall", "F1", "support"]]
    table += [[name, _score(v["precision"]), _score(v["recall"]), _score(v["f1"]), f"{v['support']:,}"]
              for name, v in result["per_class"].items()]
    lines += [""] + aligned(table)
    if result.get("unseen_labels"):
        lines += ["", "Labels the model does not know (counted as errors): " + ", ".join(result["unseen_labels"])]
    overlap = result.get("overlap") or {}
    if overlap.get("rows") is not None:
        lines += ["", f"Overlap with the training data: {overlap['rows']:,} rows ({_share(overlap['share'])})"]
    if report_path:
        lines += ["", f"Report: {report_path}"]
    return "\n".join(lines)
