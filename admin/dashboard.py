"""Everything the dashboard page shows, gathered in one read of the store."""
from __future__ import annotations

from datetime import datetime, time, timezone

from admin import charts, tables
from admin.assignment_panel import assignment_panel
from admin.audit_panel import audit_page
from admin.backlog import backlog
from admin.drift import drift_panel
from admin.review_panel import review_page
from admin.segments import describe
from store.types import utcnow
from telemetry.store_collector import current_model_version

DAYS = 30
REFRESH_SECONDS = 15


def dashboard_data(runtime, days: int = DAYS, args=None, strict: bool = False) -> dict:
    """`args`: the query string, whose `<table>.page`, `.q`, ... page and filter the tables (admin.paging);
    `strict` (a bearer client): a value that names nothing raises `admin.paging.BadQuery` (a 400)."""
    args = args if args is not None else {}
    day_list = charts.days_back(days)
    since = datetime.combine(datetime.fromisoformat(day_list[0]).date(), time.min, tzinfo=timezone.utc)
    serving = current_model_version(runtime)
    registry = model_registry(runtime.settings)
    tier_source = runtime.settings.triage_tier_source
    now = utcnow()
    with runtime.store.session() as session:
        return {
            "days": days,
            "now": now,
            "refresh_seconds": REFRESH_SECONDS,
            "volume": charts.volume_by_category(session, since, day_list),
            "automation": charts.automation_rate(session, since, day_list),
            "accuracy": charts.accuracy(session, since, tier_source),
            "tier_source": describe(tier_source),
            "reviews": review_page(session, runtime, args, now, strict),
            "failed": tables.failed_items(session, runtime.settings, now, args, strict),
            "models": tables.model_versions(session, _registry_versions(registry), serving),
            "model_statuses": tables.STATUSES,
            "registry_current": _registry_current(registry),
            "serving": serving,
            "drift": drift_panel(session, since),
            "backlog": backlog(session),
            "assignment": assignment_panel(session, runtime.routing.assignment, now, args, strict, runtime.settings),
            "audit": audit_page(session, args, now, runtime.settings, strict),
        }


def model_registry(settings):
    from classifier.registry import ModelRegistry

    return ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)


def _registry_versions(registry) -> list[dict]:
    """The registry's artifacts, and the bundled starter model while no registry version is current."""
    from classifier.artifact import ArtifactError, read_manifest
    from classifier.registry import RegistryError

    try:
        found = registry.versions()
        if registry.current_version() is None and registry.starter and registry.starter.is_dir():
            found.append({**read_manifest(registry.starter), "status": "current (bundled starter)", "starter": True})
        return found
    except (ArtifactError, RegistryError, OSError):
        return []


def _registry_current(registry) -> dict:
    """Which registry version is current, and whether there is one to roll back from."""
    from classifier.registry import RegistryError

    try:
        return {"version": registry.current_version(), "error": None}
    except RegistryError as exc:
        return {"version": None, "error": str(exc)}


def chart_payload(data: dict) -> dict:
    """The part of the data the browser draws (JSON-safe)."""
    return {"volume": data["volume"], "automation": data["automation"], "accuracy": data["accuracy"],
            "drift": data["drift"].get("history") or {"labels": [], "series": {}}}
