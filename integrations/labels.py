"""Where a historical ticket's label comes from (`triage backfill --label-from`):

- `group`: the name of the group that solved it (a group that no longer exists gives no label);
- `field:NAME`: a custom field's value; NAME is the field's id or title (Zendesk) or name or label (Freshdesk);
- `tag-prefix:PREFIX`: the first tag starting with PREFIX, without it (`cat_refund` -> `refund`).
"""
from __future__ import annotations

from dataclasses import dataclass

from integrations.base import Catalog, HistoryTicket


class LabelSourceError(ValueError):
    pass


@dataclass(frozen=True)
class LabelSource:
    kind: str  # group | field | tag-prefix
    argument: str = ""

    @classmethod
    def parse(cls, text: str) -> "LabelSource":
        kind, _, argument = text.partition(":")
        if kind == "group" and not argument:
            return cls("group")
        if kind in ("field", "tag-prefix") and argument:
            return cls(kind, argument)
        raise LabelSourceError(f"--label-from {text!r}: expected group, field:NAME or tag-prefix:PREFIX")

    def __str__(self) -> str:
        return self.kind if self.kind == "group" else f"{self.kind}:{self.argument}"

    def field_key(self, catalog: Catalog) -> str:
        """The key tickets carry the field under; raises if the helpdesk has no such field."""
        if self.argument in catalog.fields:
            return self.argument
        matches = [key for key, field in catalog.fields.items() if field.title == self.argument]
        if len(matches) != 1:
            known = ", ".join(sorted(f"{f.title} ({k})" for k, f in catalog.fields.items())) or "none"
            raise LabelSourceError(f"no ticket field {self.argument!r} in the helpdesk; fields: {known}")
        return matches[0]

    def label(self, ticket: HistoryTicket, catalog: Catalog, field_key: str | None = None) -> str | None:
        if self.kind == "group":
            return catalog.groups.get(ticket.group) if ticket.group else None
        if self.kind == "field":
            value = ticket.fields.get(field_key or self.argument)
            return str(value).strip() or None if value not in (None, "", []) else None
        for tag in ticket.ticket.tags:
            if tag.startswith(self.argument) and len(tag) > len(self.argument):
                return tag[len(self.argument):]
        return None
