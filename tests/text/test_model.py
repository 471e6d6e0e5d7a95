"""A whole prediction of the bundled starter model on hostile tickets: capped once, then the usual answer."""
from __future__ import annotations

import pytest

from classifier.artifact import load_model
from classifier.limits import MAX_BODY_CHARS, MAX_SUBJECT_CHARS
from classifier.ticket import Ticket
from pathological import ORDINARY_BODY, ORDINARY_SUBJECT, hostile_texts

HOSTILE = hostile_texts()


@pytest.fixture(scope="module")
def starter(starter_model_path):
    return load_model(starter_model_path)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", HOSTILE)
def test_the_starter_model_predicts_on_a_megabyte_ticket(starter, name):
    prediction = starter.predict(Ticket(subject=HOSTILE[name][:5_000], body=HOSTILE[name]))
    assert prediction.category in starter.labels and 0.0 <= prediction.confidence <= 1.0


def test_text_beyond_the_caps_is_not_read(starter):
    subject, body = ORDINARY_SUBJECT + " x" * 5_000, ORDINARY_BODY + " " + "y" * 1_000_000
    whole = starter.predict(Ticket(subject=subject, body=body))
    capped = starter.predict(Ticket(subject=subject[:MAX_SUBJECT_CHARS], body=body[:MAX_BODY_CHARS]))
    assert whole.probabilities == capped.probabilities and whole.explanation == capped.explanation
