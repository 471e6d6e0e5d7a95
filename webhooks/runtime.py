"""Builds one process's parts from settings: store, model, routing, adapters, queue and pipeline.

The web app, `triage worker` and `triage serve` all start from here, so they cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifier.registry import ModelRegistry
from config.routing import RoutingConfig, load_routing
from config.settings import Settings
from integrations.registry import build_helpdesks, build_notifier
from learning.shadow import build_challenger
from store.database import Store
from webhooks.model_holder import ModelHolder
from webhooks.pipeline import Pipeline, PipelineSettings
from webhooks.queue import InboxWorkers, RedisQueue


@dataclass
class Runtime:
    settings: Settings
    store: Store
    models: ModelHolder
    routing: RoutingConfig
    pipeline: Pipeline
    queue: InboxWorkers | RedisQueue

    def close(self) -> None:
        self.queue.stop()
        self.store.dispose()


def build_runtime(settings: Settings) -> Runtime:
    store = Store(settings.database_url)
    registry = ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)
    models = ModelHolder(registry, poll_seconds=settings.triage_model_poll_seconds)
    routing = load_routing(settings.triage_routing_file)
    pipeline = Pipeline(
        store, models, routing, build_helpdesks(settings), build_notifier(settings),
        PipelineSettings(
            default_threshold=settings.triage_confidence_threshold,
            max_attempts=settings.triage_max_attempts,
            retry_base_seconds=settings.triage_retry_base_seconds,
            retry_max_seconds=settings.triage_retry_max_seconds,
            lease_seconds=settings.triage_lease_seconds,
        ),
        build_challenger(settings, registry),
    )
    if settings.redis_url:
        queue = RedisQueue(settings.redis_url)
    else:
        queue = InboxWorkers(store, pipeline.process, threads=settings.triage_workers)
    return Runtime(settings, store, models, routing, pipeline, queue)
