"""Gauges read from the store when Prometheus scrapes: right whichever process or machine did the work.

Each scrape runs a few small GROUP BY counts (deliveries by state use the `ix_deliveries_due` index, tickets
waiting for capacity `ix_assignments_waiting`).
A store that cannot be read gives `triage_store_up 0` and no other store gauge, never a failed scrape.
"""
from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from sqlalchemy import func, select

from store.assignments import waiting_summary
from store.models import OPEN_STATES, Correction, Delivery, ReviewMessage, WriteBack
from store.types import utcnow

log = logging.getLogger(__name__)
HELPDESKS = ("zendesk", "freshdesk")  # as integrations.registry.HELPDESKS (a layer above this one)


class StoreCollector:
    """A prometheus-client custom collector over one runtime's store and model registry."""

    def __init__(self, runtime):
        self.runtime = runtime

    def describe(self):
        return []  # computed at scrape time; nothing to check at registration

    def collect(self):
        up = GaugeMetricFamily("triage_store_up", "1 when the store answered this scrape's queries")
        try:
            families = list(self._from_store())
        except Exception as exc:  # a scrape reports, it never raises
            log.warning("metrics: store unreadable", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            families = []
        else:
            up.add_metric([], 1)
        yield up
        yield from families
        model = self._model_info()
        if model is not None:
            yield model

    def _from_store(self):
        with self.runtime.store.session() as session:
            by_state = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
            oldest = session.scalar(select(func.min(Delivery.received_at)).where(Delivery.state.in_(OPEN_STATES)))
            reviews = session.scalar(select(func.count()).select_from(ReviewMessage)
                                     .where(ReviewMessage.state == "open"))
            pending = session.execute(select(WriteBack.kind, func.count()).where(WriteBack.state == "pending")
                                      .group_by(WriteBack.kind)).all()
            corrections = session.execute(select(Correction.source, func.count()).group_by(Correction.source)).all()
            capacity = waiting_summary(session)

        depth = GaugeMetricFamily("triage_queue_depth", "Deliveries not finished yet, by state", labels=["state"])
        for state in OPEN_STATES:
            depth.add_metric([state], by_state.get(state, 0))
        yield depth
        failed = GaugeMetricFamily("triage_failed_deliveries", "Dead-lettered deliveries waiting for a retry")
        failed.add_metric([], by_state.get("failed", 0))
        yield failed
        age = GaugeMetricFamily("triage_oldest_open_delivery_seconds",
                                "Age of the oldest unfinished delivery (0 when none)")
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield age
        review = GaugeMetricFamily("triage_review_queue_open", "Tickets waiting for a person's review")
        review.add_metric([], reviews or 0)
        yield review
        waiting = GaugeMetricFamily("triage_write_backs_pending", "Write-backs not yet confirmed by the helpdesk",
                                    labels=["kind"])
        for kind, count in pending:
            waiting.add_metric([kind], count)
        yield waiting
        total = CounterMetricFamily("triage_corrections", "Corrections recorded, by source (slack, helpdesk)",
                                    labels=["source"])
        for source, count in corrections:
            total.add_metric([source], count)
        yield total
        yield from _capacity_gauges(capacity, utcnow())

    def _model_info(self):
        version = current_model_version(self.runtime)
        if version is None:
            return None
        info = InfoMetricFamily("triage_model", "The model version this process serves (or would load)")
        info.add_metric([], {"version": version})
        return info


def _capacity_gauges(summary: dict, now):
    """Tickets waiting for an agent with room, per helpdesk (assignment by load: `store.assignments`)."""
    count = GaugeMetricFamily("triage_tickets_waiting_for_capacity",
                              "Tickets routed to a group whose agents were all at their cap or away, not yet assigned",
                              labels=["helpdesk"])
    age = GaugeMetricFamily("triage_oldest_capacity_wait_seconds",
                            "Seconds the oldest ticket waiting for capacity has waited, per helpdesk",
                            labels=["helpdesk"])
    for helpdesk in sorted(set(HELPDESKS) | set(summary)):  # 0, not a missing series, once the queue is empty
        waiting, oldest = summary.get(helpdesk, (0, None))
        count.add_metric([helpdesk], waiting)
        age.add_metric([helpdesk], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    yield count
    yield age


def current_model_version(runtime) -> str | None:
    """The loaded model's version, else the registry's current one read from its manifest (no loading)."""
    if runtime.models.loaded:
        return runtime.models.get().version
    from classifier.artifact import ArtifactError, read_manifest
    from classifier.registry import ModelRegistry, RegistryError

    settings = runtime.settings
    try:
        path = ModelRegistry(settings.triage_model_dir, settings.triage_starter_model).current_path()
        return str(read_manifest(path).get("version"))
    except (ArtifactError, RegistryError, OSError):
        return None
