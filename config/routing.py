"""The routing file (`TRIAGE_ROUTING_FILE`, TOML or YAML): per category its tags, threshold, review flag
and, per helpdesk, group, assignee and category field. Validated at start-up; every mistake is reported
at once as `file:line: entry: what is wrong`.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# An assignee that is a rule, not an agent: chosen per ticket among the available members of the route's group.
LEAST_LOADED, ROUND_ROBIN = "least_loaded", "round_robin"
ASSIGNMENT_RULES = (LEAST_LOADED, ROUND_ROBIN)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RoutingError(Exception):
    """The routing file is missing or wrong: `problems` holds one `file:line: entry: what` line per mistake."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryField(_Strict):
    """A custom field to set: Zendesk wants the field id, Freshdesk the field name (cf_...)."""

    id: int | None = None
    name: str | None = None
    value: str


class HelpdeskRoute(_Strict):
    group: int | str | None = None  # id (or, for `triage routing check`, a name)
    assignee: int | str | None = None  # an agent id or name, or a rule: "least_loaded" | "round_robin"
    field: CategoryField | None = None

    @model_validator(mode="after")
    def _rule_needs_group(self) -> "HelpdeskRoute":
        if self.assignee_rule is not None and self.group is None:
            raise ValueError(f"assignee {self.assignee!r} chooses among a group's members: set `group` too")
        return self

    @property
    def assignee_rule(self) -> str | None:
        return self.assignee if self.assignee in ASSIGNMENT_RULES else None


class AgentHours(_Strict):
    """Per agent (by id or name): a cap of their own, and working hours in their time zone."""

    max_open: int | None = Field(None, ge=0)
    time_zone: str | None = None  # IANA name, e.g. "Europe/Paris"; default UTC
    hours: str | None = None  # "09:00-17:30"; outside them the agent takes no new tickets
    days: list[str] | None = None  # ["mon", "tue", ...]; default every day

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Paris)") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and parse_hours(value) is None:
            raise ValueError(f"hours must be HH:MM-HH:MM, e.g. 09:00-17:30 (got {value!r})")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            wrong = [day for day in value if day.lower()[:3] not in WEEKDAYS]
            if wrong or not value:
                raise ValueError(f"days are some of {', '.join(WEEKDAYS)} (got {value!r})")
            return [day.lower()[:3] for day in value]
        return value


def parse_hours(text: str) -> tuple[int, int] | None:
    """"09:00-17:30" -> minutes of the day (540, 1050); an end before the start runs past midnight."""
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not found:
        return None
    start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
    if start_h > 24 or end_h > 24 or start_m > 59 or end_m > 59:
        return None
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    return None if start == end or max(start, end) > 24 * 60 else (start, end)


class AssignmentConfig(_Strict):
    """`[assignment]`: how many open tickets an agent may hold before the rules give them no more."""

    max_open_per_agent: int | None = Field(None, ge=0)  # unset: no cap
    agents: dict[str, AgentHours] = Field(default_factory=dict)  # by agent id or name

    def settings_for(self, agent_id: str, name: str | None) -> AgentHours:
        return self.agents.get(str(agent_id)) or (self.agents.get(name) if name else None) or AgentHours()

    def cap_for(self, agent_id: str, name: str | None) -> int | None:
        own = self.settings_for(agent_id, name).max_open
        return own if own is not None else self.max_open_per_agent


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
    assignment: AssignmentConfig = AssignmentConfig()

    def route_for(self, category: str) -> CategoryRoute:
        return self.categories.get(category, CategoryRoute())


def load_routing(path: Path) -> RoutingConfig:
    """Read and validate the routing file; `RoutingError` lists every mistake with its line."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise RoutingError(f"{path}: routing file {what} (TRIAGE_ROUTING_FILE)")
    is_yaml = path.suffix in (".yaml", ".yml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingError(f"{path}: cannot be read ({exc})") from None
    try:
        data = yaml.safe_load(text) if is_yaml else tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # "Invalid value (at line 3, column 9)": no attributes before 3.14
        found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", str(exc))
        where, what = (f"{found[1]}:", f"{str(exc)[:found.start()]} (column {found[2]})") if found else ("", str(exc))
        raise RoutingError(f"{path}:{where} not valid TOML: {what}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RoutingError(f"{path}:{where} not valid YAML: {what}") from None
    try:
        return RoutingConfig.model_validate(data or {})
    except ValidationError as exc:
        line_of = _yaml_lines(text) if is_yaml else _toml_lines(text)
        located = sorted(((line_of(tuple(e["loc"])) if e["loc"] else 1) or 0, n, e) for n, e in enumerate(exc.errors()))
        raise RoutingError([_problem(path, line, error) for line, _, error in located]) from None


def _problem(path: Path, line: int, error: dict) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden" and (model := _model_at(loc[:-1])) is not None:
        message = f"unknown key (known: {', '.join(model.model_fields)})"
    elif isinstance(error.get("input"), (str, int, float)):
        message += f" (got {error['input']!r})"
    return f"{path}:{f'{line}:' if line else ''} {where}: {message}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The part of the routing file a location points into, to name the keys it allows."""
    model, parts = RoutingConfig, [str(part) for part in loc]
    while parts:
        name = parts.pop(0)
        if model is RoutingConfig and name == "categories" and parts:
            parts.pop(0)
            model = CategoryRoute
        elif model is RoutingConfig and name == "assignment":
            model = AssignmentConfig
        elif model is AssignmentConfig and name == "agents" and parts:
            parts.pop(0)
            model = AgentHours
        elif model is CategoryRoute and name in ("zendesk", "freshdesk"):
            model = HelpdeskRoute
        elif model is HelpdeskRoute and name == "field":
            model = CategoryField
        else:
            return None
    return model


def _toml_lines(text: str):
    """tomllib keeps no positions: the line of the longest key path (tables and keys) that leads to `loc`."""
    keys: list[tuple[tuple[str, ...], int]] = []
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if header := re.match(r"\[\[?([^\]]+)\]", line):
            table = _key_parts(header[1])
            keys.append((table, number))
        elif "=" in line and not line.startswith("#"):
            keys.append((table + _key_parts(line.split("=", 1)[0]), number))

    def line_of(loc: tuple) -> int | None:
        wanted = tuple(str(part) for part in loc)
        best = max((key for key in keys if wanted[:len(key[0])] == key[0]), key=lambda key: len(key[0]), default=None)
        return best[1] if best else None
    return line_of


def _key_parts(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', key.strip()))


def _yaml_lines(text: str):
    def line_of(loc: tuple) -> int | None:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return None
        line = None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                match = (node.value[part], node.value[part])
            else:
                match = None
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        return line
    return line_of


def locate(path: Path, loc: tuple) -> int | None:
    """The line of the routing file where the entry at `loc` is written (for messages), or None."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return (_yaml_lines if Path(path).suffix in (".yaml", ".yml") else _toml_lines)(text)(tuple(loc))
