"""Reading `GET /metrics` in tests: every sample by name and labels."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scraped: dict[tuple, float], name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)
