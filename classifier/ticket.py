"""The Ticket every part of triage speaks: what the helpdesk told us, before any model looks at it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from classifier.limits import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, head


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
    sender_domain: str | None = None  # of the requester's e-mail address; never the address (classifier.email_text)

    @property
    def text(self) -> str:
        """Subject and body joined as the models see them (before normalisation), each cut to its cap first."""
        return f"{head(self.subject, MAX_SUBJECT_CHARS)}\n{head(self.body, MAX_BODY_CHARS)}".strip()
