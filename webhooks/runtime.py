"""Builds one process's parts from settings: store, model, routing, adapters, queue and pipeline.

The web app, `triage worker` and `triage serve` all start from here, so they cannot drift apart.
Without REDIS_URL, `workers` says where the inbox is drained:
- "here": threads of this process run the pipeline (tests, benchmarks);
- "isolated": threads of this process hand each ticket to a child process under a time limit
  (`triage worker`, and the worker process of `triage serve`);
- "elsewhere": a web process; the workers are other processes (`triage web`, `triage serve`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from classifier.registry import ModelRegistry
from config.routing import RoutingConfig, load_routing
from config.settings import Settings
from integrations.registry import build_helpdesks, build_notifier
from learning.shadow import build_challenger
from store.database import Store
from webhooks.background import BackgroundWork
from webhooks.isolation import TimeLimitedRunner
from webhooks.model_holder import ModelHolder
from webhooks.pipeline import Pipeline, PipelineSettings
from webhooks.queue import InboxDoorbell, InboxWorkers, RedisQueue

WORKER_PLACES = ("here", "isolated", "elsewhere")
INBOX_POLL_SECONDS = 0.5  # with the workers in another process, a new delivery waits at most this long


@dataclass
class Runtime:
    settings: Settings
    store: Store
    models: ModelHolder
    routing: RoutingConfig
    pipeline: Pipeline
    queue: InboxWorkers | InboxDoorbell | RedisQueue
    runner: object = None  # the time-limited runner (webhooks.isolation) where tickets run in child processes
    background: BackgroundWork = field(default_factory=BackgroundWork)  # work requests handed off after answering

    def close(self) -> None:
        self.queue.stop()
        if self.runner is not None:
            self.runner.stop()
        self.background.close()  # before the store goes: a handed-off write finishes its transaction
        self.store.dispose()


def build_runtime(settings: Settings, workers: str = "here") -> Runtime:
    store = Store(settings.database_url)
    registry = ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)
    models = ModelHolder(registry, poll_seconds=settings.triage_model_poll_seconds)
    routing = load_routing(settings.triage_routing_file)
    pipeline = Pipeline(
        store, models, routing, build_helpdesks(settings, routing.assignment), build_notifier(settings),
        PipelineSettings(
            default_threshold=settings.triage_confidence_threshold,
            max_attempts=settings.triage_max_attempts,
            retry_base_seconds=settings.triage_retry_base_seconds,
            retry_max_seconds=settings.triage_retry_max_seconds,
            lease_seconds=settings.triage_lease_seconds,
        ),
        build_challenger(settings, registry),
    )
    if workers not in WORKER_PLACES:
        raise ValueError(f"workers must be one of {WORKER_PLACES}, got {workers!r}")
    runner = None
    if workers == "isolated":
        # RQ's worker runs one job at a time; the inbox workers run `triage_workers` at once
        runner = TimeLimitedRunner(settings, store, processes=1 if settings.redis_url else settings.triage_workers,
                                   build_runtime=build_runtime)
    if settings.redis_url:
        queue = RedisQueue(settings.redis_url)
    elif workers == "elsewhere":
        queue = InboxDoorbell(store)
    else:
        does = runner if runner is not None else pipeline
        queue = InboxWorkers(store, does.process, threads=settings.triage_workers, poll_seconds=INBOX_POLL_SECONDS,
                             process_batch=does.process_batch)
    return Runtime(settings, store, models, routing, pipeline, queue, runner)
