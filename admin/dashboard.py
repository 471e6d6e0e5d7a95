"""Everything the dashboard page shows, gathered in one read of the store."""
from __future__ import annotations

from datetime import datetime, time, timezone

from admin import charts, tables
from admin.drift import drift_panel
from integrations.review_queue import open_reviews
from telemetry.store_collector import current_model_version

DAYS = 30


def dashboard_data(runtime, days: int = DAYS) -> dict:
    day_list = charts.days_back(days)
    since = datetime.combine(datetime.fromisoformat(day_list[0]).date(), time.min, tzinfo=timezone.utc)
    serving = current_model_version(runtime)
    with runtime.store.session() as session:
        return {
            "days": days,
            "volume": charts.volume_by_category(session, since, day_list),
            "automation": charts.automation_rate(session, since, day_list),
            "accuracy": charts.accuracy(session, since),
            "reviews": open_reviews(session),
            "failed": tables.failed_deliveries(session),
            "models": tables.model_versions(session, _registry_versions(runtime), serving),
            "serving": serving,
            "drift": drift_panel(session, since),
        }


def _registry_versions(runtime) -> list[dict]:
    """The registry's artifacts, and the bundled starter model while no registry version is current."""
    from classifier.artifact import ArtifactError, read_manifest
    from classifier.registry import ModelRegistry, RegistryError

    settings = runtime.settings
    registry = ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)
    try:
        found = registry.versions()
        if registry.current_version() is None and registry.starter and registry.starter.is_dir():
            found.append({**read_manifest(registry.starter), "status": "current (bundled starter)"})
        return found
    except (ArtifactError, RegistryError, OSError):
        return []


def chart_payload(data: dict) -> dict:
    """The part of the data the browser draws (JSON-safe)."""
    return {"volume": data["volume"], "automation": data["automation"], "accuracy": data["accuracy"],
            "drift": data["drift"].get("history") or {"labels": [], "series": {}}}

