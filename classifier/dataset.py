"""Training data: read CSVs, build Tickets, report problems, split a stratified holdout.

Only unusable input stops training (`DataError` naming the column or rows). Everything else is
reported and handled: empty texts and rows without a label are dropped, duplicates and conflicting
labels are counted, and classes too small to split stay in training, out of the holdout.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from classifier.email_text import email_domain
from classifier.text import normalise
from classifier.ticket import Ticket

log = logging.getLogger(__name__)

METADATA_COLUMNS = ("channel", "created_at", "organization", "tier", "language")  # used when present
SENDER_COLUMNS = ("sender", "requester", "requester_email")  # the first present gives the sender's domain
MIN_SPLIT_CLASS = 5  # smaller classes are kept whole in training
TINY_CLASS = 10


class DataError(ValueError):
    """The data cannot be trained on; the message names the column or rows."""


@dataclass
class LabeledData:
    tickets: list[Ticket]
    labels: dict[str, np.ndarray]  # label column -> string labels, first is the main label
    checks: dict = field(default_factory=dict)


def read_csvs(paths: list[str | Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        try:
            frames.append(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not a readable CSV ({exc})") from None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _require_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}; the data has: {', '.join(map(str, frame.columns))}")


def _created_at(value: object):
    stamp = pd.to_datetime(value, errors="coerce", utc=True) if isinstance(value, str) else None
    return None if stamp is None or pd.isna(stamp) else stamp.to_pydatetime()


def tickets_from_frame(frame: pd.DataFrame, text_columns: list[str]) -> list[Ticket]:
    _require_columns(frame, text_columns)
    texts = frame[text_columns].fillna("").astype(str).agg("\n".join, axis=1)
    present = [column for column in METADATA_COLUMNS if column in frame.columns and column not in text_columns]
    meta = frame[present].where(frame[present].notna(), None) if present else None
    senders = [column for column in SENDER_COLUMNS if column in frame.columns and column not in text_columns]
    sender = frame[senders[0]] if senders else None
    tickets = []
    for i, text in enumerate(texts):
        extra = {column: meta.iat[i, j] for j, column in enumerate(present)} if meta is not None else {}
        if "created_at" in extra:
            extra["created_at"] = _created_at(extra["created_at"])
        if sender is not None:
            extra["sender_domain"] = email_domain(sender.iat[i])  # the domain only: no address is kept
        tickets.append(Ticket(body=text, **extra))
    return tickets


def load_labeled(frame: pd.DataFrame, text_columns: list[str], label_columns: list[str],
                 min_classes: int = 2) -> LabeledData:
    """Rows with text and labels, with the checks reported. Training needs two classes; evaluating a set of
    one class (say, this week's tickets of one queue) is fine: pass `min_classes=1`."""
    if frame.empty:
        raise DataError("no rows: the data is empty")
    _require_columns(frame, text_columns + label_columns)
    tickets = tickets_from_frame(frame, text_columns)
    cleaned = [normalise(ticket.text) for ticket in tickets]
    labels = frame[label_columns].apply(lambda col: col.astype("string").str.strip())
    empty = [i for i, text in enumerate(cleaned) if not text]
    unlabeled = np.flatnonzero(labels.isna().any(axis=1).to_numpy() | (labels == "").any(axis=1).to_numpy())
    drop = sorted(set(empty) | set(unlabeled.tolist()))
    keep = np.setdiff1d(np.arange(len(tickets)), drop)
    if len(keep) == 0:
        raise DataError(f"no usable rows: {len(empty)} empty texts, {len(unlabeled)} rows without a label")
    checks = {"rows": len(tickets), "used_rows": int(len(keep)),
              "empty_texts": _rows(empty), "missing_labels": _rows(unlabeled.tolist())}
    kept_text = pd.Series([cleaned[i] for i in keep])
    result = LabeledData([tickets[i] for i in keep], {}, checks)
    for column in label_columns:
        values = labels[column].to_numpy()[keep].astype(str).astype(object)
        result.labels[column] = values
        checks[column] = _label_checks(kept_text, values, column, min_classes)
    checks["exact_duplicates"] = int(kept_text.duplicated().sum())
    return result


def _rows(indices: list[int], shown: int = 10) -> dict:
    """Count and the first few CSV data row numbers (1 = first row after the header)."""
    return {"count": len(indices), "rows": [int(i) + 1 for i in indices[:shown]]}


def _label_checks(texts: pd.Series, values: np.ndarray, column: str, min_classes: int = 2) -> dict:
    counts = pd.Series(values).value_counts()
    if len(counts) < min_classes:
        raise DataError(f"label column {column}: needs at least {min_classes} classes, found {list(counts.index)}")
    per_text = pd.DataFrame({"text": texts, "label": values}).groupby("text")["label"].nunique()
    return {
        "classes": int(len(counts)),
        "class_counts": {str(k): int(v) for k, v in counts.items()},
        "tiny_classes": {str(k): int(v) for k, v in counts.items() if v < TINY_CLASS},
        "conflicting_texts": int((per_text > 1).sum()),
    }


def holdout_split(labels: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split by the main label; classes under MIN_SPLIT_CLASS stay wholly in training."""
    index = np.arange(len(labels))
    if share <= 0:
        return index, index[:0]
    counts = pd.Series(labels).value_counts()
    splittable = np.isin(labels, counts[counts >= MIN_SPLIT_CLASS].index)
    candidates = index[splittable]
    if len(candidates) < 2 or len(np.unique(labels[candidates])) < 2:
        return index, index[:0]
    test_size = max(int(round(share * len(candidates))), len(np.unique(labels[candidates])))
    if test_size >= len(candidates):
        return index, index[:0]
    train, test = train_test_split(candidates, test_size=test_size, stratify=labels[candidates], random_state=seed)
    return np.sort(np.concatenate([train, index[~splittable]])), np.sort(test)


def report_checks(checks: dict) -> None:
    log.info("data: %d rows, %d used", checks["rows"], checks["used_rows"])
    for name in ("empty_texts", "missing_labels"):
        if checks[name]["count"]:
            log.warning("%s: %d rows dropped (rows %s)", name, checks[name]["count"], checks[name]["rows"])
    if checks.get("exact_duplicates"):
        log.warning("exact duplicate texts: %d", checks["exact_duplicates"])
    for key, value in checks.items():
        if isinstance(value, dict) and "classes" in value:
            if value["conflicting_texts"]:
                log.warning("%s: %d texts carry more than one label", key, value["conflicting_texts"])
            if value["tiny_classes"]:
                log.warning("%s: tiny classes (kept in training, out of the holdout): %s", key, value["tiny_classes"])
