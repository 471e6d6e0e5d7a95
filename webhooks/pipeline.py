"""One delivery through its recorded steps: received -> classified -> routed | review -> done.

Each step does its outside work (fetch, predict, helpdesk or Slack call) with no transaction open, then
records the outcome and moves the state in one transaction with compare-and-set on the lease. A crash
anywhere resumes at the last recorded step; a worker that lost its lease writes nothing.

`process_batch` takes several deliveries at once: one statement claims them and reads their state, the
model predicts them in one call, and one transaction records prediction, decision and (when it needs no
outside call: dry-run write-back, the store's review queue) the finished route, with compare-and-set per
delivery. Whatever needs an outside call, or was not newly received, continues step by step.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import bindparam, insert, select, update

from classifier.prediction import Prediction
from classifier.selective import stored
from classifier.ticket import Ticket
from config.routing import RoutingConfig
from integrations.base import FetchUnavailable, HelpdeskAdapter, ReviewNotifier, StoreReviewQueue
from integrations import outage
from integrations.errors import HelpdeskError, RateLimited, failure_outcome
from integrations.route import Route, build_route
from learning.shadow import Challenger, predict_pair
from store import inbox
from store.database import Store
from store.models import (CLASSIFIED, DONE, RECEIVED, REVIEW, ROUTED, Delivery, PredictionRecord, ReviewMessage,
                          TicketRecord, WriteBack)
from store.ticket_records import prediction_from_record, ticket_from_record
from store.types import utcnow
from telemetry import pipeline_metrics
from telemetry.log_context import request_id_bound
from webhooks.decision import AUTO, decide
from webhooks.model_holder import ModelHolder

log = logging.getLogger(__name__)
PENDING = "pending"  # process_batch(outside_calls=False): claimed and held, the next step needs an outside call


class LeaseLost(Exception):
    """Another worker owns this delivery now; roll back and walk away."""


@dataclass(frozen=True)
class PipelineSettings:
    default_threshold: float | None  # TRIAGE_CONFIDENCE_THRESHOLD when set: it overrides the model's own
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    lease_seconds: float


class Pipeline:
    def __init__(self, store: Store, models: ModelHolder, routing: RoutingConfig,
                 helpdesks: dict[str, HelpdeskAdapter], notifier: ReviewNotifier, settings: PipelineSettings,
                 challenger: Challenger | None = None):
        self.store, self.models, self.routing = store, models, routing
        self.challenger = challenger  # shadow / canary (learning.shadow)
        self.helpdesks, self.notifier, self.settings = helpdesks, notifier, settings
        self._steps: dict[str, Callable[[int, str], str]] = {
            RECEIVED: self._classify, CLASSIFIED: self._decide, ROUTED: self._write_back, REVIEW: self._post_review,
        }

    def process(self, delivery_id: int, owner: str) -> str:
        """Run a delivery to its end or to its next retry; returns the state it was left in."""
        return self.process_batch([delivery_id], owner)[delivery_id]

    def process_batch(self, delivery_ids: list[int], owner: str, more: int = 0,
                      outside_calls: bool = True) -> dict[int, str]:
        """Claim `delivery_ids` and up to `more` other due deliveries, and run each to its end or next retry;
        returns the state each was left in ("not_claimed" for the ones someone else holds or that are not
        due). With `outside_calls` False, a delivery whose next step calls out (fetch, helpdesk, Slack) is
        left held, as PENDING, for the caller to run on its own (`process`) under its own time limit."""
        with self.store.session() as session:  # one statement claims and reads: this runs for every batch
            claimed = inbox.claim_many(session, delivery_ids, owner, self.settings.lease_seconds, more)
            fresh = [row for row in claimed if row.state == RECEIVED and not row.needs_fetch]
            records = {record.id: record for record in session.scalars(
                select(TicketRecord).where(TicketRecord.id.in_({row.ticket_id for row in fresh})))} if fresh else {}
        outcomes = {delivery_id: "not_claimed" for delivery_id in delivery_ids}
        states = {row.id: row.state for row in claimed}
        if fresh:
            states.update(self._classify_batch(fresh, records, owner))
        for row in claimed:
            state = states[row.id]
            if state in (DONE, "lease_lost"):  # finished by the batch (its metrics are recorded)
                outcomes[row.id] = state
            elif not outside_calls:
                outcomes[row.id] = PENDING
            else:
                with request_id_bound(row.request_id):  # the webhook's request id on every line about it
                    outcomes[row.id] = self._run(row.id, owner, state, row.helpdesk)
                pipeline_metrics.record_processed(row.helpdesk, outcomes[row.id], row.received_at)
        return outcomes

    def _classify_batch(self, rows: list, records: dict, owner: str) -> dict[int, str]:
        """Predict newly received deliveries in one model call and record each one's prediction and decision
        (and the finished route, when that needs no outside call) in one transaction. Returns the state each
        is in now; on any error they all stay received, to go step by step, so one bad ticket fails alone."""
        try:
            model = self.models.get()
            tickets = [ticket_from_record(records[row.ticket_id]) for row in rows]
            pairs = self._predict_many(model, tickets, [row.id for row in rows])
            plans = [self._plan(model, row, records[row.ticket_id], *pair) for row, pair in zip(rows, pairs)]
            with self.store.session() as session:
                moved = self._record_plans(session, plans, owner)
        except Exception as exc:
            log.warning("batch classification failed; one by one", extra={
                "deliveries": len(rows), "error": f"{type(exc).__name__}: {exc}"})
            log.debug("batch classification traceback: %s", traceback.format_exc())
            return {row.id: RECEIVED for row in rows}
        states = {}
        for plan in plans:
            row = plan["row"]
            if row.id not in moved:
                log.warning("lease lost", extra={"delivery_id": row.id})
                states[row.id] = "lease_lost"
                pipeline_metrics.record_processed(row.helpdesk, "lease_lost", row.received_at)
                continue
            states[row.id] = plan["state"]
            self._report_batch_step(plan)
        return states

    def _predict_many(self, model, tickets: list[Ticket], delivery_ids: list[int]) -> list[tuple]:
        """(acting prediction, latency ms, shadow or None) per ticket; one model call unless a challenger
        runs beside the champion (then each ticket as `predict_pair` does it)."""
        other = self.challenger.get() if self.challenger is not None else None
        if other is not None and other.version != getattr(model, "version", None):
            return [predict_pair(model, self.challenger, t, i) for t, i in zip(tickets, delivery_ids)]
        started = time.perf_counter()
        predictions = model.predict_batch(tickets)
        per_ticket_ms = (time.perf_counter() - started) * 1000 / max(1, len(tickets))
        return [(prediction, per_ticket_ms, None) for prediction in predictions]

    def _plan(self, model, row, record, prediction: Prediction, latency_ms: float, shadow) -> dict:
        """What to record for one delivery, worked out with no transaction open."""
        decision = decide(prediction, self.routing, self.settings.default_threshold, self._selective(model, prediction))
        plan = {"row": row, "external_id": record.external_id, "prediction": prediction, "decision": decision,
                "latency_ms": latency_ms, "language": None if record.language else prediction.derived.get("language"),
                "shadow": None, "route": None, "result": None, "dry_run": False}
        if shadow is not None:
            plan["shadow"] = (shadow, decide(shadow, self.routing, self.settings.default_threshold,
                                             self._selective(model, shadow)))
        if decision.action == AUTO:
            route = build_route(prediction.category, row.helpdesk, self.routing, prediction.confidence,
                                prediction.model_version)
            adapter = self.helpdesks[row.helpdesk]
            plan["route"], plan["dry_run"] = route, adapter.dry_run
            if adapter.dry_run:  # writes nothing, calls nobody: recorded with the decision
                started = time.perf_counter()
                plan["result"] = adapter.apply(record.external_id, route)
                plan["write_seconds"] = time.perf_counter() - started
                plan["state"] = DONE
            else:
                plan["state"] = ROUTED
        else:
            plan["state"] = DONE if isinstance(self.notifier, StoreReviewQueue) else REVIEW
        return plan

    def _record_plans(self, session, plans: list[dict], owner: str) -> set[int]:
        """Compare-and-set first, then write only for the deliveries that moved: a delivery whose lease
        moved meanwhile gets nothing written. Returns the ids that moved."""
        moved: set[int] = set()
        for target in (DONE, ROUTED, REVIEW):
            ids = [plan["row"].id for plan in plans if plan["state"] == target]
            moved.update(inbox.advance_many(session, ids, owner, RECEIVED, target, self.settings.lease_seconds))
        mine = [plan for plan in plans if plan["row"].id in moved]
        if not mine:
            return moved
        now = utcnow()
        predictions, write_backs, reviews, languages = [], [], [], []
        for plan in mine:
            row = plan["row"]
            predictions.append(_prediction_values(row.id, row.ticket_id, plan["prediction"], plan["decision"],
                                                  plan["latency_ms"]))
            if plan["shadow"] is not None:
                predictions.append(_prediction_values(row.id, row.ticket_id, *plan["shadow"], None, role="shadow"))
            if plan["route"] is not None:
                done = plan["result"] is not None
                write_backs.append({"delivery_id": row.id, "ticket_id": row.ticket_id, "helpdesk": row.helpdesk,
                                    "kind": "route", "route": plan["route"].to_dict(),
                                    "state": "done" if done else "pending", "result": plan["result"],
                                    "dry_run": plan["dry_run"], "attempts": 1 if done else 0,
                                    "done_at": now if done else None})
            else:
                reviews.append({"ticket_id": row.ticket_id, "delivery_id": row.id})
            if plan["language"]:
                languages.append({"ticket": row.ticket_id, "language": plan["language"]})
        session.execute(insert(PredictionRecord), predictions)
        if write_backs:
            session.execute(insert(WriteBack), write_backs)
        if reviews:
            session.execute(insert(ReviewMessage), reviews)
        if languages:  # the detected language, unless the helpdesk sent one
            table = TicketRecord.__table__
            session.connection().execute(
                update(table).where(table.c.id == bindparam("ticket"), table.c.language.is_(None))
                .values(language=bindparam("language")), languages)
        return moved

    def _report_batch_step(self, plan: dict) -> None:
        row, prediction, decision = plan["row"], plan["prediction"], plan["decision"]
        with request_id_bound(row.request_id):
            log.info("classified", extra={"delivery_id": row.id, "category": prediction.category,
                                          "confidence": round(prediction.confidence, 4), "decision": decision.action,
                                          "model_version": prediction.model_version,
                                          "latency_ms": round(plan["latency_ms"], 1)})
            pipeline_metrics.record_prediction(prediction.category, decision.action, prediction.confidence,
                                               plan["latency_ms"])
            if plan["state"] != DONE:
                return
            if plan["route"] is not None:
                log.info("written back", extra={"delivery_id": row.id, "helpdesk": row.helpdesk,
                                                "category": plan["route"].category, "dry_run": True})
                pipeline_metrics.record_write_back(row.helpdesk, "route", True, plan["write_seconds"])
            else:
                log.info("sent to review", extra={"delivery_id": row.id, "helpdesk": row.helpdesk,
                                                  "outcome": "queued"})
                pipeline_metrics.record_review_post("queued", 0.0)
        pipeline_metrics.record_processed(row.helpdesk, DONE, row.received_at)

    def _run(self, delivery_id: int, owner: str, state: str, helpdesk: str) -> str:
        try:
            while state in self._steps:
                state = self._steps[state](delivery_id, owner)  # each step returns the state it recorded
            return state
        except LeaseLost:
            log.warning("lease lost", extra={"delivery_id": delivery_id})
            return "lease_lost"
        except Exception as exc:  # every failure is recorded and retried with backoff, then dead-lettered
            error = f"{type(exc).__name__}: {exc}"
            log.warning("step failed", extra={"delivery_id": delivery_id, "step": state, "error": error})
            log.debug("step failed traceback: %s", traceback.format_exc())
            pipeline_metrics.record_step_failure(state, helpdesk, failure_outcome(exc))
            s = self.settings
            with self.store.session() as session:
                if isinstance(exc, RateLimited):  # 429, our budget, open breaker: later, not a failed attempt
                    return inbox.defer(session, delivery_id, owner, error, exc.retry_after)
                if outage.is_outage(exc):  # the vendor is down, not the ticket at fault: later, no attempt spent
                    return inbox.defer(session, delivery_id, owner, f"outage: {error}", outage.retry_after(exc))
                if isinstance(exc, HelpdeskError) and exc.permanent:  # auth, not found, rejected: no retry helps
                    return inbox.dead_letter(session, delivery_id, owner, f"permanent: {error}")
                return inbox.record_failure(session, delivery_id, owner, error, s.max_attempts,
                                            s.retry_base_seconds, s.retry_max_seconds,
                                            not_before_seconds=getattr(exc, "retry_after", None))

    def _advance(self, session, delivery_id: int, owner: str, from_state: str, to_state: str) -> str:
        if not inbox.advance(session, delivery_id, owner, from_state, to_state, self.settings.lease_seconds):
            raise LeaseLost(delivery_id)
        return to_state

    def _selective(self, model, prediction: Prediction) -> dict | None:
        """The stored thresholds of the model that made this prediction (champion, or challenger on canary)."""
        if prediction.model_version == getattr(model, "version", None) or self.challenger is None:
            return stored(model)
        return stored(self.challenger.get())

    def _classify(self, delivery_id: int, owner: str) -> str:
        with self.store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            record = session.get(TicketRecord, delivery.ticket_id)
            needs_fetch, helpdesk, external_id = delivery.needs_fetch, delivery.helpdesk, record.external_id
            ticket = ticket_from_record(record)
        fetched = self._fetch(helpdesk, external_id) if needs_fetch else None
        ticket = fetched or ticket
        model = self.models.get()
        prediction, latency_ms, shadow = predict_pair(model, self.challenger, ticket, delivery_id)
        decision = decide(prediction, self.routing, self.settings.default_threshold, self._selective(model, prediction))
        with self.store.session() as session:
            if fetched is not None:
                record = session.get(TicketRecord, session.get(Delivery, delivery_id).ticket_id)
                record.subject, record.body = fetched.subject, fetched.body
                record.tags = list(fetched.tags) or record.tags
            session.add(_prediction_record(delivery_id, record.id, prediction, decision, latency_ms))
            stored = session.get(TicketRecord, record.id)  # the detected language, unless the helpdesk sent one
            stored.language = stored.language or prediction.derived.get("language")
            if shadow is not None:  # recorded beside the acting one, never acted on
                session.add(_prediction_record(delivery_id, record.id, shadow, decide(
                    shadow, self.routing, self.settings.default_threshold, self._selective(model, shadow)),
                    None, role="shadow"))
            self._advance(session, delivery_id, owner, RECEIVED, CLASSIFIED)
        log.info("classified", extra={"delivery_id": delivery_id, "category": prediction.category,
                                      "confidence": round(prediction.confidence, 4), "decision": decision.action,
                                      "model_version": prediction.model_version, "latency_ms": round(latency_ms, 1)})
        pipeline_metrics.record_prediction(prediction.category, decision.action, prediction.confidence, latency_ms)
        return CLASSIFIED

    def _fetch(self, helpdesk: str, external_id: str) -> Ticket | None:
        try:
            return self.helpdesks[helpdesk].fetch_ticket(external_id)
        except FetchUnavailable as exc:
            log.warning("classifying without fetch", extra={"reason": str(exc)})
            return None

    def _decide(self, delivery_id: int, owner: str) -> str:
        with self.store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            prediction = _champion(session, delivery_id)
            if prediction.decision == AUTO:
                route = build_route(prediction.category, delivery.helpdesk, self.routing,
                                    prediction.confidence, prediction.model_version)
                session.add(WriteBack(delivery_id=delivery_id, ticket_id=delivery.ticket_id,
                                      helpdesk=delivery.helpdesk, route=route.to_dict()))
                return self._advance(session, delivery_id, owner, CLASSIFIED, ROUTED)
            session.add(ReviewMessage(ticket_id=delivery.ticket_id, delivery_id=delivery_id))
            return self._advance(session, delivery_id, owner, CLASSIFIED, REVIEW)

    def _write_back(self, delivery_id: int, owner: str) -> str:
        with self.store.session() as session:
            action = session.scalar(select(WriteBack).where(WriteBack.delivery_id == delivery_id,
                                                            WriteBack.kind == "route"))
            external_id = session.get(TicketRecord, action.ticket_id).external_id
            action_id, helpdesk, route = action.id, action.helpdesk, Route.from_dict(action.route)
        adapter = self.helpdesks[helpdesk]
        started = time.perf_counter()
        result = adapter.apply(external_id, route)
        with self.store.session() as session:
            action = session.get(WriteBack, action_id)
            action.state, action.result, action.dry_run, action.done_at = "done", result, adapter.dry_run, utcnow()
            action.attempts += 1
            state = self._advance(session, delivery_id, owner, ROUTED, DONE)
        log.info("written back", extra={"delivery_id": delivery_id, "helpdesk": helpdesk, "category": route.category,
                                        "dry_run": adapter.dry_run})
        pipeline_metrics.record_write_back(helpdesk, "route", adapter.dry_run, time.perf_counter() - started)
        return state

    def _post_review(self, delivery_id: int, owner: str) -> str:
        with self.store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            record = session.get(TicketRecord, delivery.ticket_id)
            message = session.scalar(select(ReviewMessage).where(ReviewMessage.ticket_id == record.id))
            external_id, helpdesk, ticket = record.external_id, delivery.helpdesk, ticket_from_record(record)
            prediction = _champion(session, delivery_id)
            message_id, already_posted = message.id, message.ts is not None
            maybe_posted, since = message.channel is not None, message.created_at
        started = time.perf_counter()
        post = None if already_posted else self._find_or_post_review(
            message_id, maybe_posted, since, external_id, helpdesk, ticket, prediction_from_record(prediction))
        with self.store.session() as session:
            if post is not None:
                message = session.get(ReviewMessage, message_id)
                message.channel, message.ts = post.channel, post.ts
            state = self._advance(session, delivery_id, owner, REVIEW, DONE)
        outcome = "already_posted" if already_posted else ("posted" if post is not None and post.ts else "queued")
        log.info("sent to review", extra={"delivery_id": delivery_id, "helpdesk": helpdesk, "outcome": outcome})
        pipeline_metrics.record_review_post(outcome, time.perf_counter() - started)
        return state

    def _find_or_post_review(self, message_id: int, maybe_posted: bool, since, external_id: str, helpdesk: str,
                             ticket: Ticket, prediction: Prediction):
        """Never post twice: the channel is recorded before the post, so an attempt that finds a channel but
        no ts (a crash after Slack answered) first asks the notifier for the message posted then."""
        find = getattr(self.notifier, "find_review", None)
        if maybe_posted and find is not None:
            found = find(external_id, helpdesk, since)
            if found is not None:
                return found
        channel = getattr(self.notifier, "channel", None)
        if channel and not maybe_posted:
            with self.store.session() as session:
                session.get(ReviewMessage, message_id).channel = channel
        return self.notifier.post_review(external_id, helpdesk, ticket, prediction)


def _prediction_record(delivery_id: int, ticket_id: int, prediction: Prediction, decision, latency_ms,
                       role: str = "champion") -> PredictionRecord:
    return PredictionRecord(**_prediction_values(delivery_id, ticket_id, prediction, decision, latency_ms, role))


def _prediction_values(delivery_id: int, ticket_id: int, prediction: Prediction, decision, latency_ms,
                       role: str = "champion") -> dict:
    return dict(
        delivery_id=delivery_id, ticket_id=ticket_id, role=role, model_version=prediction.model_version,
        category=prediction.category, confidence=prediction.confidence,
        probabilities=prediction.probabilities, explanation=list(prediction.explanation),
        prediction_set=list(prediction.prediction_set),
        fields={name: vars(field) for name, field in prediction.fields.items()},
        derived=dict(prediction.derived), decision=decision.action, threshold=decision.threshold,
        latency_ms=latency_ms,
    )


def _champion(session, delivery_id: int) -> PredictionRecord:
    return session.scalar(select(PredictionRecord).where(PredictionRecord.delivery_id == delivery_id,
                                                         PredictionRecord.role == "champion"))
