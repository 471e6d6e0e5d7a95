"""Tables of the store. Every step of a ticket's processing leaves a row here, so work resumes after a crash.

Every text column uses the cleaning types of `store.types`: whatever a helpdesk sends is written the same way
on SQLite and PostgreSQL (NUL dropped, lone surrogates replaced, labels cut to their column).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import CleanString, CleanText, JSONValue, UTCDateTime, utcnow

# Delivery states, in the order a delivery moves through them. `failed` is the dead-letter state.
RECEIVED, CLASSIFIED, ROUTED, REVIEW, DONE, FAILED = "received", "classified", "routed", "review", "done", "failed"
OPEN_STATES = (RECEIVED, CLASSIFIED, ROUTED, REVIEW)


class Base(DeclarativeBase):
    pass


class TicketRecord(Base):
    """A helpdesk ticket as we know it; texts may be purged after the retention period, labels stay."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("helpdesk", "external_id", name="uq_tickets_helpdesk_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    # Never cut, so tickets never collide by cutting: ids are at most 20 ASCII digits (payload_fields.ticket_id).
    external_id: Mapped[str] = mapped_column(CleanString(64))
    subject: Mapped[str | None] = mapped_column(CleanText)
    body: Mapped[str | None] = mapped_column(CleanText)
    requester: Mapped[str | None] = mapped_column(CleanString(320))
    organization: Mapped[str | None] = mapped_column(CleanString(255))
    tier: Mapped[str | None] = mapped_column(CleanString(64))
    channel: Mapped[str | None] = mapped_column(CleanString(64))
    language: Mapped[str | None] = mapped_column(CleanString(16))
    tags: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    ticket_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    label: Mapped[str | None] = mapped_column(CleanString(255))  # the true category, once known
    label_source: Mapped[str | None] = mapped_column(CleanString(32))  # backfill | slack | helpdesk
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One accepted webhook delivery and where its processing stands (the durable inbox)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Never cut, so deliveries never collide by cutting: "<helpdesk>:<event>:<ticket id>" is under 64 chars.
    idempotency_key: Mapped[str] = mapped_column(CleanString(255), unique=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    event_type: Mapped[str] = mapped_column(CleanString(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    needs_fetch: Mapped[bool] = mapped_column(Boolean, default=False)
    request_id: Mapped[str | None] = mapped_column(CleanString(64))
    state: Mapped[str] = mapped_column(CleanString(16), default=RECEIVED)
    failed_step: Mapped[str | None] = mapped_column(CleanString(16))  # where a dead-lettered delivery stopped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(CleanString(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PredictionRecord(Base):
    """What the model said about a delivery's ticket and what we decided; one per delivery and role."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("delivery_id", "role", name="uq_predictions_delivery_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    role: Mapped[str] = mapped_column(CleanString(16), default="champion")  # champion | shadow
    model_version: Mapped[str] = mapped_column(CleanString(64))
    category: Mapped[str] = mapped_column(CleanString(255))
    confidence: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict[str, float]] = mapped_column(JSONValue)
    explanation: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    prediction_set: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    derived: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    decision: Mapped[str] = mapped_column(CleanString(16))  # auto | review
    threshold: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WriteBack(Base):
    """A route to write to the helpdesk: recorded before the call, marked when the helpdesk confirmed."""

    __tablename__ = "write_backs"
    __table_args__ = (
        UniqueConstraint("delivery_id", "kind", name="uq_write_backs_delivery_kind"),
        Index("ix_write_backs_due", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    kind: Mapped[str] = mapped_column(CleanString(16), default="route")  # route | correction
    route: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    state: Mapped[str] = mapped_column(CleanString(16), default="pending")  # pending | done | failed
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewMessage(Base):
    """A ticket sent for human review: a Slack message (channel + ts) or, without Slack, a queue entry."""

    __tablename__ = "review_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    channel: Mapped[str | None] = mapped_column(CleanString(64))
    ts: Mapped[str | None] = mapped_column(CleanString(64))
    state: Mapped[str] = mapped_column(CleanString(16), default="open")  # open | resolved | left
    resolved_by: Mapped[str | None] = mapped_column(CleanString(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Correction(Base):
    """A human said the category is `to_category` (Slack click or agent re-routing in the helpdesk)."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    source: Mapped[str] = mapped_column(CleanString(32))  # slack | helpdesk
    user: Mapped[str | None] = mapped_column(CleanString(128))
    from_category: Mapped[str | None] = mapped_column(CleanString(255))
    to_category: Mapped[str] = mapped_column(CleanString(255))
    model_version: Mapped[str | None] = mapped_column(CleanString(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    """Mirror of the file-based model registry, for the admin page and promotion history."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(CleanString(64), primary_key=True)
    path: Mapped[str] = mapped_column(CleanText)
    status: Mapped[str] = mapped_column(CleanString(16))  # current | candidate | rejected | retired
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
    reason: Mapped[str | None] = mapped_column(CleanText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateBudget(Base):
    """A token bucket shared by every process: how many helpdesk calls of one kind we may still make."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(CleanString(64), primary_key=True)  # e.g. zendesk:ticket_updates
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BackfillCursor(Base):
    """Where a history import stands, so `triage backfill` resumes after an interruption."""

    __tablename__ = "backfill_cursors"
    __table_args__ = (UniqueConstraint("helpdesk", "since", "label_from", name="uq_backfill_cursors_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    label_from: Mapped[str] = mapped_column(CleanString(255))
    cursor: Mapped[str | None] = mapped_column(CleanText)  # None: start from `since`
    pages: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DriftCheck(Base):
    """One figure of a drift check (the clock, daily): a PSI, a share or an accuracy, overall or per segment."""

    __tablename__ = "drift_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    model_version: Mapped[str | None] = mapped_column(CleanString(64))
    metric: Mapped[str] = mapped_column(CleanString(64))  # psi_category | psi_length | ... | low_confidence | accuracy
    # all | category:X | language:X | tier:X | org:X
    segment: Mapped[str] = mapped_column(CleanString(255), default="all")
    value: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)


class AlertState(Base):
    """One alert condition: whether it is firing, and when we last said so (cooldown, "resolved")."""

    __tablename__ = "alert_states"

    key: Mapped[str] = mapped_column(CleanString(128), primary_key=True)  # e.g. accuracy, psi:category, dead_letters
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(CleanText)
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerHeartbeat(Base):
    """A ticket worker process says it is alive (every few seconds); `/readyz` of a web process that has no
    workers of its own reads it to tell whether anyone drains the inbox."""

    __tablename__ = "worker_heartbeats"

    identity: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TeamGroup(Base):
    """A helpdesk group as its last member read found it: which agents are in it, and when we read that."""

    __tablename__ = "team_groups"
    __table_args__ = (UniqueConstraint("helpdesk", "group_id", name="uq_team_groups_helpdesk_group"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    group_id: Mapped[str] = mapped_column(CleanString(64))
    name: Mapped[str | None] = mapped_column(CleanString(255))
    members: Mapped[list[str]] = mapped_column(JSONValue, default=list)  # agent ids
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentLoad(Base):
    """One agent of a helpdesk: availability, open tickets as the helpdesk last counted them, what triage
    assigned since that count, and an operator's away mark. The row is locked while a ticket is assigned."""

    __tablename__ = "agent_loads"
    __table_args__ = (UniqueConstraint("helpdesk", "agent_id", name="uq_agent_loads_helpdesk_agent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    agent_id: Mapped[str] = mapped_column(CleanString(64))
    name: Mapped[str | None] = mapped_column(CleanString(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool | None] = mapped_column(Boolean)  # the helpdesk's flag; None: it does not say
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when availability was read
    open_count: Mapped[int | None] = mapped_column(Integer)  # None: never counted
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when that count's read began
    assigned_since: Mapped[int] = mapped_column(Integer, default=0)  # by triage, since counted_at
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an operator's mark on the admin page
    away_set_by: Mapped[str | None] = mapped_column(CleanString(128))


class Assignment(Base):
    """Who triage gave a ticket to by a rule, or that it waits for capacity (oldest first, never forgotten)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("helpdesk", "external_id", name="uq_assignments_helpdesk_ticket"),
        Index("ix_assignments_waiting", "state", "helpdesk", "waiting_since"),
        Index("ix_assignments_agent", "helpdesk", "agent_id", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    helpdesk: Mapped[str] = mapped_column(CleanString(32))
    external_id: Mapped[str] = mapped_column(CleanString(64))
    group_id: Mapped[str] = mapped_column(CleanString(64))
    group_name: Mapped[str | None] = mapped_column(CleanString(255))
    rule: Mapped[str] = mapped_column(CleanString(16))  # least_loaded | round_robin
    category: Mapped[str | None] = mapped_column(CleanString(255))
    route: Mapped[dict[str, Any]] = mapped_column(JSONValue)  # applied again when a waiting ticket gets room
    state: Mapped[str] = mapped_column(CleanString(16))  # waiting | assigned | taken | closed | failed | dropped
    agent_id: Mapped[str | None] = mapped_column(CleanString(64))
    agent_name: Mapped[str | None] = mapped_column(CleanString(255))
    reason: Mapped[str | None] = mapped_column(CleanText)
    # the helpdesk refused the waiting ticket's assignment (not a rate limit or outage): why, and how many
    # times in a row; `assignments.MAX_FAILURES` of them make it `failed` (a failed item on the admin page)
    last_error: Mapped[str | None] = mapped_column(CleanText)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the helpdesk took our assignee
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who did what, when, and what it changed: one row per operator action (page, Slack or command line).

    `before` and `after` hold only the fields the action changed, never a secret; `source` says where the
    action came from (admin | slack | cli), `actor` who took it (an operator's name or a Slack user id)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_actor", "actor", "at"),
        Index("ix_audit_entries_action", "action", "at"),
        Index("ix_audit_entries_target", "target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(CleanString(128))
    action: Mapped[str] = mapped_column(CleanString(64))  # correction | promote | rollback | away | retry | drop
    target: Mapped[str] = mapped_column(CleanString(255))  # e.g. "zendesk:123", "model:v3", "agent:zendesk:7"
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)
    source: Mapped[str] = mapped_column(CleanString(32), default="admin")
