"""What the models read, from hostile text: HTML and quote stripping, whitespace, signals and features."""
from __future__ import annotations

import numpy as np
import pytest

from classifier.features import prepare
from classifier.limits import MAX_BODY_CHARS, MAX_CLEAN_CHARS, MAX_SUBJECT_CHARS
from classifier.signals import FEATURE_NAMES, detect_language, sentiment, signal_vector
from classifier.text import cut_history, fold_whitespace, normalise, strip_html
from classifier.ticket import Ticket
from pathological import ORDINARY_BODY, ORDINARY_SUBJECT, hostile_texts

HOSTILE = hostile_texts()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_each_cleaning_step_finishes_on_a_megabyte(name):
    """Uncapped, straight into each step: every one is linear in its input, not only in the cap."""
    text = HOSTILE[name]
    for step in (strip_html, cut_history, fold_whitespace):
        assert len(step(text)) <= len(text)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_normalise_cuts_and_finishes(name):
    assert len(normalise(HOSTILE[name])) <= MAX_CLEAN_CHARS


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_signals_finish_on_a_megabyte(name):
    text = HOSTILE[name]
    vector = signal_vector(text, detect_language(text), sentiment(text), None, "gold", "UTC")
    assert vector.shape == (len(FEATURE_NAMES),) and np.isfinite(vector).all()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", HOSTILE)
def test_features_are_prepared_from_capped_text(name):
    prepared = prepare([Ticket(subject=HOSTILE[name], body=HOSTILE[name])], "UTC")
    assert len(prepared.texts[0]) <= MAX_CLEAN_CHARS and prepared.signals.shape[0] == 1


def test_the_ticket_text_is_cut_to_the_caps():
    ticket = Ticket(subject="s" * 5_000, body="b" * 2_000_000)
    assert ticket.text == "s" * MAX_SUBJECT_CHARS + "\n" + "b" * MAX_BODY_CHARS
    ordinary = Ticket(subject=ORDINARY_SUBJECT, body=ORDINARY_BODY)
    assert ordinary.text == f"{ORDINARY_SUBJECT}\n{ORDINARY_BODY}"


def test_cleaning_still_does_its_job():
    raw = ("<html><style>p {color: red}</style><div>My printer is jammed.</div><script>x<y</script><br>"
           "Error 42.<br><br>\n\n\nBest regards,<br>Ann<br>"
           "On Mon, 3 Feb 2025 at 10:00, Support wrote:<br>&gt; old text about invoices")
    assert normalise(raw, None, 0) == "My printer is jammed.\nError 42."  # as models before normalisation read it
    assert normalise(raw) == "my printer is jammed.\nerror 42."
    # nothing of its own above the quote: the quoted message is all there is to classify
    assert normalise("\n\nOn Mon, Support wrote:\n> only history") == "only history"
    assert normalise("Thanks,\n\nmy card was charged twice") == "thanks,\nmy card was charged twice"
    assert normalise("a < b and c > d, <unclosed") == "a < b and c > d, <unclosed"
