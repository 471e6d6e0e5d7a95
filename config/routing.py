"""The routing file (`TRIAGE_ROUTING_FILE`, TOML or YAML): per category its tags, threshold, review flag
and, per helpdesk, group, assignee and category field. Validated at start-up; a mistake names its place.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class RoutingError(Exception):
    """The routing file is missing or wrong; the message names the file and the bad entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryField(_Strict):
    """A custom field to set: Zendesk wants the field id, Freshdesk the field name (cf_...)."""

    id: int | None = None
    name: str | None = None
    value: str


class HelpdeskRoute(_Strict):
    group: int | str | None = None  # id (or, for `triage routing check`, a name)
    assignee: int | str | None = None
    field: CategoryField | None = None


class CategoryRoute(_Strict):
    tags: list[str] = Field(default_factory=list)
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    always_review: bool = False
    zendesk: HelpdeskRoute = HelpdeskRoute()
    freshdesk: HelpdeskRoute = HelpdeskRoute()


class RoutingConfig(_Strict):
    mode: Literal["threshold", "conformal"] = "threshold"  # conformal: auto-route singleton prediction sets only
    note: bool = False  # add a private note with category, confidence and model version
    # below this share of known content words the model is guessing, however confident: review
    min_vocabulary_coverage: float = Field(0.5, ge=0.0, le=1.0)
    categories: dict[str, CategoryRoute] = Field(default_factory=dict)

    def route_for(self, category: str) -> CategoryRoute:
        return self.categories.get(category, CategoryRoute())


def load_routing(path: Path) -> RoutingConfig:
    """Read and validate the routing file; a missing default file means an empty map (defaults apply)."""
    if not path.exists():
        raise RoutingError(f"{path}: routing file not found (TRIAGE_ROUTING_FILE)")
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise RoutingError(f"{path}: cannot be read: {exc}") from None
    try:
        return RoutingConfig.model_validate(data or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise RoutingError(f"{path}: {where}: {error['msg']}") from None
