"""A Route: what we write to the helpdesk for one ticket, built from the category and the routing file."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field as dataclass_field

from config.routing import RoutingConfig

TAG_PREFIX = "triage_"


def slug(category: str) -> str:
    """Lower case, every run of non-alphanumerics to `_` (helpdesk tags allow no spaces)."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_") or "unknown"


@dataclass(frozen=True)
class Route:
    category: str
    tags: list[str]
    group: int | str | None = None
    assignee: int | str | None = None
    field: dict | None = None  # {"id" or "name": ..., "value": ...}
    note: str | None = None
    extra: dict = dataclass_field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Route":
        return cls(**data)


def build_route(
    category: str, helpdesk: str, routing: RoutingConfig, confidence: float | None = None, model_version: str | None = None
) -> Route:
    entry = routing.route_for(category)
    target = getattr(entry, helpdesk, None)
    tags = [TAG_PREFIX + slug(category)] + [t for t in entry.tags if t]
    note = None
    if routing.note:
        note = f"triage: category {category}"
        if confidence is not None:
            note += f", confidence {confidence:.2f}"
        if model_version:
            note += f", model {model_version}"
    extra = {"assignment_note": True} if routing.note and target and target.assignee_rule else {}
    return Route(
        category=category,
        tags=list(dict.fromkeys(tags)),
        group=target.group if target else None,
        assignee=target.assignee if target else None,
        field=target.field.model_dump(exclude_none=True) if target and target.field else None,
        note=note,
        extra=extra,
    )
