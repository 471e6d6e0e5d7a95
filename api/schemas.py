"""Request and response models of the predict API; the OpenAPI document is generated from them."""
from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

from classifier.ticket import Ticket

MAX_BATCH = 1000


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field("", max_length=10_000)
    body: str = Field("", max_length=500_000)
    channel: str | None = Field(None, max_length=64)
    created_at: datetime | None = None
    organization: str | None = Field(None, max_length=255)
    tier: str | None = Field(None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=200)
    language: str | None = Field(None, max_length=16)

    def to_ticket(self) -> Ticket:
        created = self.created_at
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return Ticket(subject=self.subject, body=self.body, channel=self.channel, created_at=created,
                      organization=self.organization, tier=self.tier, tags=tuple(self.tags), language=self.language)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[TicketIn] = Field(min_length=1, max_length=MAX_BATCH)


class RankedCategory(BaseModel):
    category: str
    confidence: float


class FieldOut(BaseModel):
    value: str
    confidence: float
    probabilities: dict[str, float]


class PredictionOut(BaseModel):
    category: str
    confidence: float = Field(description="calibrated probability that the category is right")
    probabilities: dict[str, float]
    top_k: list[RankedCategory]
    explanation: list[str]
    model_version: str
    prediction_set: list[str]
    fields: dict[str, FieldOut]
    derived: dict[str, object]


class BatchOut(BaseModel):
    predictions: list[PredictionOut]


class ErrorOut(BaseModel):
    error: str
    detail: str
