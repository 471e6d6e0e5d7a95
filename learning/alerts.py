"""Alerts to SLACK_ALERT_CHANNEL (and always the log): each condition is sent once when it starts firing,
again at most once per cooldown while it lasts, and a "resolved" message when it clears.

Conditions: accuracy measured from corrections (7 days) below the minimum, overall and for any category,
language, tier or organisation with at least `MIN_JUDGED` judged tickets, any drift signal of the latest
drift check that fired (its threshold learned from held-out tickets for the window size, see
learning.drift_signals; PSI above the fixed maximum only for a check that has no such signal), the share of low-confidence tickets (last day) above the setting, p99
classification latency (last hour) above the maximum, and dead-lettered deliveries waiting.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select

from learning import drift_signals, live_window
from store.database import Store
from store.models import FAILED, AlertState, Delivery, DriftCheck

log = logging.getLogger(__name__)
MIN_JUDGED = 20  # fewer judged tickets say nothing about accuracy
MIN_LATENCIES = 20


@dataclass(frozen=True)
class Condition:
    key: str
    firing: bool
    value: float | None
    message: str


def conditions(session, settings, now: datetime) -> list[Condition]:
    s, found = settings, []
    week = live_window.window(session, now - timedelta(days=7), now, with_text=False)
    for segment, (accuracy, judged) in sorted(live_window.measured_accuracy(week).items()):
        # overall, and each category, language, tier or organisation with enough judged tickets
        found.append(Condition("accuracy" if segment == "all" else f"accuracy:{segment}",
                               judged >= MIN_JUDGED and accuracy < s.triage_alert_min_accuracy, accuracy,
                               f"measured accuracy {accuracy} on {judged} tickets (7 days) of "
                               f"{'all tickets' if segment == 'all' else segment} is below "
                               f"{s.triage_alert_min_accuracy}"))
    latest = session.scalar(select(func.max(DriftCheck.checked_at)))
    if latest is not None:
        found += _drift_conditions(session, latest, s.triage_alert_max_psi)
    day = live_window.window(session, now - timedelta(days=1), now, with_text=False)
    share, n = live_window.low_confidence_share(day)
    found.append(Condition("low_confidence", share is not None and share > s.triage_alert_max_low_confidence, share,
                           f"{share} of {n} tickets (last day) were below the confidence threshold "
                           f"(above {s.triage_alert_max_low_confidence})"))
    hour = live_window.window(session, now - timedelta(hours=1), now, with_text=False)
    p99, samples = live_window.latency_p99(hour)
    found.append(Condition("latency_p99", p99 is not None and samples >= MIN_LATENCIES and
                           p99 > s.triage_alert_max_p99_ms, p99,
                           f"p99 processing latency {p99} ms over {samples} tickets (last hour) is above "
                           f"{s.triage_alert_max_p99_ms} ms"))
    dead = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == FAILED)) or 0
    found.append(Condition("dead_letters", dead > 0, float(dead),
                           f"{dead} dead-lettered deliveries (`triage events failed`, `triage events retry`)"))
    return found


def _drift_conditions(session, latest: datetime, max_psi: float) -> list[Condition]:
    rows = session.scalars(select(DriftCheck).where(DriftCheck.checked_at == latest, DriftCheck.segment == "all"))
    learned = [row for row in rows if "fired" in (row.detail or {})]
    found = [Condition(f"drift:{row.metric}", bool(row.detail["fired"]), row.value,
                       drift_signals.sentence(row.metric, row.value, row.detail["threshold"], row.detail["fired"],
                                              row.detail.get("against", "training reference")))
             for row in learned]
    for row in session.scalars(select(DriftCheck).where(DriftCheck.checked_at == latest,
                                                        DriftCheck.metric.like("psi_%"))):
        # described, not decided on, once a check has learned thresholds (an old alert of this kind resolves)
        found.append(Condition(f"psi:{row.metric[4:]}", not learned and (row.value or 0) > max_psi, row.value,
                               f"PSI of {row.metric[4:]} is {row.value} (above {max_psi}) "
                               f"against the {row.detail.get('against', 'reference')}"))
    return found


def check_alerts(store: Store, settings, send: Callable[[str], None], now: datetime) -> list[str]:
    """Evaluate every condition, send what is due; returns the messages sent."""
    cooldown = timedelta(minutes=settings.triage_alert_cooldown_minutes)
    sent = []
    with store.session() as session:
        for condition in conditions(session, settings, now):
            state = session.get(AlertState, condition.key) or AlertState(key=condition.key, active=False)
            session.add(state)
            if condition.firing:
                if not state.active or state.last_sent_at is None or now - state.last_sent_at >= cooldown:
                    sent.append(f":rotating_light: triage alert ({condition.key}): {condition.message}")
                    state.last_sent_at = now
                    state.first_seen_at = state.first_seen_at if state.active else now
                state.active, state.value, state.message, state.resolved_at = True, condition.value, \
                    condition.message, None
            elif state.active:
                sent.append(f":white_check_mark: triage alert resolved ({condition.key}): now {condition.value}")
                state.active, state.value, state.resolved_at = False, condition.value, now
    for message in sent:
        log.warning("alert", extra={"alert": message})
        try:
            send(message)
        except Exception as exc:  # the log line stands; Slack may be down
            log.warning("alert not sent to Slack", extra={"error": str(exc)})
    return sent


def slack_sender(settings) -> Callable[[str], None]:
    """Posts to SLACK_ALERT_CHANNEL when Slack is configured; otherwise alerts go to the log only."""
    if not (settings.slack_alert_channel and settings.slack_bot_token):
        return lambda message: None
    from integrations.slack.client import make_client

    client = make_client(settings)
    return lambda message: client.chat_postMessage(channel=settings.slack_alert_channel, text=message)
