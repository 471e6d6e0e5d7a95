"""Request and response models of the predict API; the OpenAPI document is generated from them."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from classifier.ticket import Ticket

MAX_BATCH = 1000
# A ticket's creation time outside these years is a typo or an attack; the time features would overflow.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
# RFC 3339 `date-time` (an offset is required) or `full-date` (midnight UTC), in the years 1970 to 2200. The
# document states these patterns and the API applies them to the text as sent, so both refuse the same values:
# JSON Schema cannot bound a year otherwise, and pydantic alone would also take numbers and local times.
_YEAR_MONTH_DAY = r"(19[7-9][0-9]|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
CREATED_AT_PATTERN = (rf"^{_YEAR_MONTH_DAY}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,9}})?"
                      r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
CREATED_ON_PATTERN = rf"^{_YEAR_MONTH_DAY}$"
_CREATED = (re.compile(CREATED_AT_PATTERN), re.compile(CREATED_ON_PATTERN))
CreatedAt = Annotated[datetime, WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time", "pattern": CREATED_AT_PATTERN},
    {"type": "string", "format": "date", "pattern": CREATED_ON_PATTERN}]})]


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field("", max_length=10_000)
    body: str = Field("", max_length=500_000)
    channel: str | None = Field(None, max_length=64)
    created_at: CreatedAt | None = Field(
        None,
        description=f"RFC 3339 date-time with an offset (Z or +hh:mm), or a date (midnight UTC), "
                    f"in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    organization: str | None = Field(None, max_length=255)
    tier: str | None = Field(None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=200)
    language: str | None = Field(None, max_length=16)

    @field_validator("created_at", mode="before")
    @classmethod
    def _documented_time(cls, value: object) -> object:
        """Only what the document allows reaches pydantic's parser, which would take 0 or "1700000000" too."""
        if value is None or isinstance(value, datetime):  # a datetime: built in Python, not sent
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string: an RFC 3339 date-time such as 2026-01-31T09:30:00Z")
        if not any(pattern.fullmatch(value) for pattern in _CREATED):
            raise ValueError(f"must be an RFC 3339 date-time with an offset (Z or +hh:mm), or a date, "
                             f"in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
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
