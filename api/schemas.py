"""Request and response models of the predict API; the OpenAPI document is generated from them."""
from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, field_validator

from classifier.ticket import Ticket

MAX_BATCH = 1000
# A ticket's creation time outside these years is a typo or an attack; the time features would overflow.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field("", max_length=10_000)
    body: str = Field("", max_length=500_000)
    channel: str | None = Field(None, max_length=64)
    created_at: datetime | None = Field(
        None, description=f"ISO 8601 in the years {EARLIEST_YEAR} to {LATEST_YEAR}; without an offset it is UTC")
    organization: str | None = Field(None, max_length=255)
    tier: str | None = Field(None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=200)
    language: str | None = Field(None, max_length=16)

    @field_validator("created_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
        return value

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
