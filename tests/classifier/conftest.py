"""Fixtures for the classifier tests (data helpers live in classifier_synthetic.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from classifier_synthetic import ...`

from classifier.training import TrainOptions, fit_classifier
from classifier_synthetic import FAST_MEMBERS, make_frame


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="session")
def trained(frame):
    """One small two-label model shared by the read-only tests."""
    from classifier.dataset import load_labeled

    data = load_labeled(frame, ["subject", "body"], ["queue", "priority"])
    model, report = fit_classifier(data.tickets, data.labels, TrainOptions(seed=7, members=FAST_MEMBERS))
    return model, report


@pytest.fixture
def csv_path(tmp_path, frame):
    path = tmp_path / "tickets.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def registry_env(tmp_path, monkeypatch):
    models = tmp_path / "registry"
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(models))
    monkeypatch.setenv("TRIAGE_STARTER_MODEL", str(tmp_path / "no-starter"))
    return models
