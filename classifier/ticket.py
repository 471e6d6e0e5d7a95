"""The Ticket every part of triage speaks: what the helpdesk told us, before any model looks at it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Ticket:
    subject: str = ""
    body: str = ""
    channel: str | None = None
    created_at: datetime | None = None
    organization: str | None = None
    tier: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    language: str | None = None

    @property
    def text(self) -> str:
        """Subject and body joined as the models see them (before normalisation)."""
        return f"{self.subject}\n{self.body}".strip()
