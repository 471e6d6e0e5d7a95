"""What a model sees and says, as shares of buckets (categories, confidence, length, language, top terms): the
drift reference written into a model's manifest when it is trained (`reference_profile`), and the same
profile of a live window that `learning.drift` compares with it. Here, below the store, because training
(`classifier.train_command`) writes the reference and must not import the learning layer.
"""
from __future__ import annotations

import re
from collections import Counter

from classifier.drift_reference import per_ticket, sketch
from classifier.limits import MAX_BODY_CHARS
from classifier.normalisation import normalise_text

LENGTH_EDGES = (50, 100, 200, 400, 800, 1600)
TOP_TERMS = 30
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("the and for you your with this that have are was not but can our from please thanks thank "
                  "hello dear regards would could will has had been any all who what when how".split())


def shares(values) -> dict[str, float]:
    counts = Counter(values)
    n = sum(counts.values())
    return {str(key): count / n for key, count in counts.items()} if n else {}


def length_bucket(text: str) -> str:
    for edge in LENGTH_EDGES:
        if len(text) < edge:
            return f"<{edge}"
    return f">={LENGTH_EDGES[-1]}"


def words(text: str) -> set[str]:
    """Distinct content words of a ticket's text, read only as far as the classifier reads it (its raw cap), in
    the one Unicode form the classifier reads (`classifier.normalisation`): an NFD or full-width word is the word."""
    return {w for w in _WORD.findall(normalise_text(text[:MAX_BODY_CHARS])) if w not in _STOP}


def term_shares(texts: list[str], terms: list[str] | None = None) -> dict[str, float]:
    """Share of term occurrences among `terms` (the reference's top terms) plus an `(other)` bucket."""
    counts = Counter(w for text in texts for w in words(text))
    if terms is None:
        terms = [term for term, _ in counts.most_common(TOP_TERMS)]
    total = sum(counts.values())
    if not total:
        return {}
    result = {term: counts.get(term, 0) / total for term in terms}
    result["(other)"] = max(0.0, 1.0 - sum(result.values()))
    return result


def confidence_bucket(confidence: float) -> str:
    return f"{min(int(confidence * 10), 9) / 10:.1f}"


def profile(categories: list[str], languages: list[str | None], texts: list[str],
            terms: list[str] | None = None, confidences: list[float] | None = None) -> dict:
    result = {"category": shares(categories), "language": shares(lang or "unknown" for lang in languages),
              "length": shares(length_bucket(t) for t in texts), "terms": term_shares(texts, terms),
              "n": len(categories)}
    if confidences is not None:
        result["confidence"] = shares(confidence_bucket(c) for c in confidences)
    return result


def reference_profile(model, tickets, limit: int = 2_000) -> dict:
    """The reference: the model's predictions on (a sample of) tickets of its training data, best the held-out
    ones (on tickets it trained on its confidence is higher than it will be on new ones)."""
    sample = tickets[:: max(1, len(tickets) // limit)][:limit]
    predictions = model.predict_batch(sample)
    result = profile([p.category for p in predictions], [p.derived.get("language") for p in predictions],
                     [t.text for t in sample], confidences=[p.confidence for p in predictions])
    result["sketch"] = sketch([per_ticket(p.category, p.confidence, p.derived) for p in predictions])
    return result
