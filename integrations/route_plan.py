"""What to write for a route, given the ticket as it is now: the rules that keep us from clobbering agents.

- Tags are only ever added (`triage_<category>` and the routing file's), never replaced.
- A ticket that already has an assignee was taken by a person: we leave its group and assignee alone.
- The category field is set only while it is empty; a value someone chose stays.
- After a conflict (someone wrote between our read and our write) we compare the re-read ticket with our
  first read: if the group or assignee moved, an agent routed it and we write nothing at all; a field
  that moved is left alone; otherwise we write again on the new version.
- The note is added only together with our category tag, so a repeated apply (a crash after the helpdesk
  took the write, before we recorded it) finds the tag and adds no second note: writes are idempotent.
- A group or assignee that does not exist in the helpdesk (deleted since the routing file was written)
  is never written; it is reported in `skipped`. So is one that cannot be confirmed because the helpdesk
  answered its list in an unexpected shape (`Catalog.unconfirmed`); the tags, field and note are still written.
- An assignee that is a rule (`least_loaded`, `round_robin`) is left for `integrations.assignment` to
  choose within the route's group, and only while nobody is assigned.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

from config.routing import ASSIGNMENT_RULES
from integrations.base import Catalog
from integrations.route import TAG_PREFIX, Route, slug


@dataclass(frozen=True)
class TicketState:
    tags: tuple[str, ...]
    group: str | None  # ids as text
    assignee: str | None
    field_value: object = None  # the current value of the route's category field, if it has one


@dataclass
class Plan:
    add_tags: list[str] = dataclass_field(default_factory=list)
    group: str | None = None
    assignee: str | None = None
    field_value: object = None
    note: str | None = None
    skipped: list[str] = dataclass_field(default_factory=list)
    assign_rule: str | None = None  # the assignee is chosen by this rule among `assign_group`'s members
    assign_group: str | None = None
    taken: bool = False  # a person assigned the ticket (before, or between our read and our write)

    @property
    def empty(self) -> bool:
        return not (self.add_tags or self.group or self.assignee or self.field_value is not None or self.note)


def agent_routed(before: TicketState, now: TicketState) -> bool:
    return (now.group, now.assignee) != (before.group, before.assignee)


def plan_route(route: Route, now: TicketState, catalog: Catalog | None, before: TicketState | None = None) -> Plan:
    """`before` is our first read when `now` is the re-read after a conflict."""
    plan = Plan()
    if before is not None and agent_routed(before, now):
        plan.skipped.append("everything: an agent routed the ticket meanwhile")
        plan.taken = True
        return plan
    plan.add_tags = [tag for tag in route.tags if tag not in now.tags]
    own_tag = TAG_PREFIX + slug(route.category)
    if route.note and own_tag not in now.tags:
        plan.note = route.note
    if route.field and "value" in route.field:
        if before is not None and now.field_value != before.field_value:
            plan.skipped.append("field: changed by someone meanwhile")
        elif _blank(now.field_value):
            plan.field_value = route.field["value"]
        elif now.field_value != route.field["value"]:
            plan.skipped.append(f"field: already {now.field_value!r}")
    if now.assignee:
        if route.group is not None or route.assignee is not None:
            plan.skipped.append(f"group and assignee: already assigned to {now.assignee}")
        plan.taken = True
        return plan
    group = _existing(route.group, catalog.groups if catalog else None, "group", plan.skipped,
                      unconfirmed(catalog, "groups"))
    if group is not None and group != now.group:
        plan.group = group
    if route.assignee in ASSIGNMENT_RULES:
        if group is not None:
            plan.assign_rule, plan.assign_group = str(route.assignee), group
        return plan
    plan.assignee = _existing(route.assignee, catalog.agents if catalog else None, "assignee", plan.skipped,
                              unconfirmed(catalog, "agents"))
    return plan


def unconfirmed(catalog: Catalog | None, part: str) -> str | None:
    """Why the catalog's `part` ("groups", "agents", "fields") could not be read, or None."""
    return (catalog.unconfirmed or {}).get(part) if catalog is not None else None


def _existing(wanted: int | str | None, known: dict | None, what: str, skipped: list[str],
              unreadable: str | None = None) -> str | None:
    """The id of `wanted` (an id, or a name the catalog knows), or None (and a reason) if it does not exist
    or the helpdesk's list could not be read."""
    if wanted is None:
        return None
    text = str(wanted)
    if unreadable:
        skipped.append(f"{what}: {text!r} could not be confirmed ({unreadable})")
        return None
    if known is None:
        return text if text.isdigit() else None
    if text in known:
        return text
    by_name = [key for key, name in known.items() if name == text]
    if len(by_name) == 1:
        return by_name[0]
    skipped.append(f"{what}: {text!r} does not exist in the helpdesk")
    return None


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []
