"""Small synthetic ticket sets made in the test: three queues with their own words, shared filler,
some label noise, and a priority that follows urgency cues."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd

FAST_MEMBERS = ("linear_svm", "logreg", "complement_nb", "lightgbm")
VOCABULARY = {
    "Billing": ["invoice", "charge", "refund", "payment", "billing", "credit card", "receipt", "price"],
    "Access": ["password", "login", "locked out", "account", "sign in", "two factor", "reset", "username"],
    "Hardware": ["laptop", "printer", "monitor", "keyboard", "docking station", "screen", "battery", "mouse"],
}
FILLER = ["please", "help", "thanks", "hello", "issue", "team", "today", "need", "since", "morning", "again"]


def make_frame(rows_per_class: int = 60, noise: float = 0.05, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    records = []
    for label, words in VOCABULARY.items():
        for _ in range(rows_per_class):
            urgent = rng.random() < 0.4
            parts = rng.sample(words, 2) + rng.sample(FILLER, 4)
            if urgent:
                parts.append(rng.choice(["URGENT", "asap", "immediately!!!"]))
            rng.shuffle(parts)
            shown = label if rng.random() > noise else rng.choice(list(VOCABULARY))
            records.append({"subject": " ".join(parts[:3]), "body": " ".join(parts[3:]),
                            "queue": shown, "priority": "high" if urgent else "normal"})
    rng.shuffle(records)
    return pd.DataFrame(records)


def uniform_probabilities(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated by construction: labels are drawn from the probabilities themselves."""
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(k, 0.3), size=n)
    labels = np.array([rng.choice(k, p=row) for row in probabilities])
    return probabilities, labels
