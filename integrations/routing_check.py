"""`triage routing check`: compare the routing file with what exists in the helpdesk right now."""
from __future__ import annotations

from config.routing import RoutingConfig
from integrations.base import Catalog
from integrations.team import TeamReads


def routing_problems(routing: RoutingConfig, helpdesk: str, catalog: Catalog, team: TeamReads | None = None) -> list[str]:
    """One line per group, agent, field or field value the routing file names and the helpdesk lacks, and
    per assignment rule whose group has nobody to choose from (with `team`, the helpdesk's member reads)."""
    problems = []
    for category, entry in sorted(routing.categories.items()):
        target = getattr(entry, helpdesk)
        where = f"categories.{category}.{helpdesk}"
        if target.group is not None and not _known(target.group, catalog.groups):
            problems.append(f"{where}.group: no group {target.group!r} in {helpdesk}")
        if target.assignee_rule is not None:
            problems += _rule_problems(target.assignee_rule, target.group, catalog, team, where)
        elif target.assignee is not None and not _known(target.assignee, catalog.agents):
            problems.append(f"{where}.assignee: no agent {target.assignee!r} in {helpdesk}")
        if target.field is not None:
            key = _field_key(target.field.id, target.field.name, catalog)
            if key is None:
                problems.append(f"{where}.field: no ticket field {target.field.id or target.field.name!r} in {helpdesk}")
            elif catalog.fields[key].options and target.field.value not in catalog.fields[key].options:
                options = ", ".join(sorted(catalog.fields[key].options))
                problems.append(f"{where}.field.value: {target.field.value!r} is not an option of field "
                                f"{catalog.fields[key].title!r} ({options})")
    return problems


def _rule_problems(rule: str, group: int | str, catalog: Catalog, team: TeamReads | None, where: str) -> list[str]:
    group_id = _key_of(group, catalog.groups)
    if group_id is None or team is None:
        return []  # an unknown group is reported once, above
    members = team.members(group_id)
    if not any(member.active for member in members):
        return [f"{where}.assignee: {rule} has nobody to choose from: group {group!r} has no active members"]
    return []


def unknown_agent_settings(routing: RoutingConfig, catalog: Catalog) -> set[str]:
    """The `[assignment.agents]` keys that name no agent (by id or name) of this helpdesk."""
    return {key for key in routing.assignment.agents if not _known(key, catalog.agents)}


def _key_of(wanted: int | str, known) -> str | None:
    if str(wanted) in known:
        return str(wanted)
    matches = [key for key, name in known.items() if name == str(wanted)]
    return matches[0] if len(matches) == 1 else None


def _known(wanted: int | str, known) -> bool:
    return str(wanted) in known or list(known.values()).count(str(wanted)) == 1


def _field_key(field_id: int | None, name: str | None, catalog: Catalog) -> str | None:
    if field_id is not None:
        return str(field_id) if str(field_id) in catalog.fields else None
    if name in catalog.fields:
        return name
    matches = [key for key, field in catalog.fields.items() if field.title == name]
    return matches[0] if len(matches) == 1 else None
