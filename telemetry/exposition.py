"""`GET /metrics`: the Prometheus text format, every web and worker process's values added up.

With `PROMETHEUS_MULTIPROC_DIR` set, the counters and histograms of every process writing to that
folder (web processes, `triage worker` on the same machine) are read from their files; without it,
this process's own registry is served (one process: `triage serve`'s web, or one `triage web` process).
"""
from __future__ import annotations

import os

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from telemetry.store_collector import StoreCollector

EXTENSION = "triage_metrics"
blueprint = Blueprint("metrics", __name__)


def init_app(app: Flask, runtime) -> None:
    store_registry = CollectorRegistry(auto_describe=False)
    store_registry.register(StoreCollector(runtime))
    app.extensions[EXTENSION] = store_registry
    app.register_blueprint(blueprint)


def process_registry() -> CollectorRegistry:
    """Every process's values under `PROMETHEUS_MULTIPROC_DIR`, else this process's default registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def render(store_registry: CollectorRegistry) -> bytes:
    return generate_latest(process_registry()) + generate_latest(store_registry)


@blueprint.get("/metrics")
def metrics():
    return Response(render(current_app.extensions[EXTENSION]), mimetype=CONTENT_TYPE_LATEST)
