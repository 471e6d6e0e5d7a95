"""Promote and roll back from the admin page: the registry calls `triage models promote|rollback` makes
(`ModelRegistry.promote`, `.rollback`), then the store's `model_versions` is brought in step at once
(`learning.promotion.sync_versions`) and this process loads the new current model in the background.

Each action is confirmed on a page naming the version and its metrics beside the current one's; the
confirmation carries the version that was current when it was shown, and the action is refused (409) if
another one became current meanwhile, so nobody promotes over a change they have not seen.
"""
from __future__ import annotations

import logging
from pathlib import Path

from admin.dashboard import model_registry
from admin.tables import pick_metrics
from classifier.artifact import ArtifactError, read_manifest
from classifier.registry import RegistryError
from learning.promotion import sync_versions
from store import audit

log = logging.getLogger(__name__)
STARTER = "starter"  # how a form names "no registry version: the bundled starter model"


class ModelActionError(Exception):
    """The action cannot be done (unknown version, nothing to roll back, changed meanwhile, broken artifact)."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def describe(registry, version: str | None) -> dict:
    """Name, status, creation time, metrics and recorded reason of a registry version (None: the starter)."""
    if version is None:
        try:
            manifest = read_manifest(registry.starter) if registry.starter else {}
        except ArtifactError:
            manifest = {}
        return {"id": STARTER, "version": manifest.get("version", "bundled starter model"), "status": "starter",
                "created": manifest.get("created"), "metrics": pick_metrics(manifest.get("metrics") or {}),
                "reason": None, "starter": True}
    for manifest in registry.versions():
        if Path(manifest.get("path", "")).name == version and manifest.get("status") != "broken":
            return {"id": version, "version": manifest.get("version", version), "status": manifest.get("status"),
                    "created": manifest.get("created"), "metrics": pick_metrics(manifest.get("metrics") or {}),
                    "reason": manifest.get("reason"), "starter": False}
    raise ModelActionError(404, "not_found", f"no model version {version!r} in the registry")


def promotion_plan(settings, version: str) -> dict:
    registry = model_registry(settings)
    target, current = describe(registry, version), _current(registry)
    if target["status"] == "current":
        raise ModelActionError(409, "already_current", f"version {version} is already current")
    return {"action": "promote", "target": target, "current": describe(registry, current)}


def rollback_plan(settings) -> dict:
    registry = model_registry(settings)
    try:
        previous = registry.rollback_target()
    except RegistryError as exc:
        raise ModelActionError(409, "nothing_to_roll_back", str(exc)) from None
    return {"action": "rollback", "target": describe(registry, previous),
            "current": describe(registry, _current(registry))}


def promote(runtime, version: str, confirmed_current: str | None, operator: str = "admin") -> str:
    registry = model_registry(runtime.settings)
    describe(registry, version)  # 404 for a version the registry does not have
    was = _check_unchanged(registry, confirmed_current)
    try:
        registry.promote(version)
    except (ArtifactError, RegistryError) as exc:  # a broken or incompatible artifact is never made current
        raise ModelActionError(422, "cannot_promote", str(exc)) from None
    _after_change(runtime, registry, f"promoted {version} from the admin page")
    _audit(runtime, operator, audit.PROMOTE, version, was, version)
    return version


def rollback(runtime, confirmed_current: str | None, operator: str = "admin") -> str:
    """Returns what is current now (`STARTER` for the bundled model)."""
    registry = model_registry(runtime.settings)
    was = _check_unchanged(registry, confirmed_current)
    try:
        now = registry.rollback()
    except RegistryError as exc:
        raise ModelActionError(409, "nothing_to_roll_back", str(exc)) from None
    _after_change(runtime, registry, f"rolled back to {now or STARTER} from the admin page")
    _audit(runtime, operator, audit.ROLLBACK, now or STARTER, was, now or STARTER)
    return now or STARTER


def _audit(runtime, operator: str, action: str, version: str, was: str, now: str) -> None:
    """After the registry changed (files, not the store): the entry says what was current and what is now."""
    with runtime.store.session() as session:
        audit.record(session, operator, action, f"model:{version}", {"current": was}, {"current": now})


def _current(registry) -> str | None:
    try:
        return registry.current_version()
    except RegistryError as exc:
        raise ModelActionError(409, "registry_unreadable", str(exc)) from None


def _check_unchanged(registry, confirmed_current: str | None) -> str:
    """`confirmed_current` None: a script that did not say (bearer); else what the confirmation showed.
    Returns what is current (`STARTER` for the bundled model)."""
    if confirmed_current == "":
        raise ModelActionError(400, "not_confirmed", "confirm the change on its confirmation page first")
    now = _current(registry) or STARTER
    if confirmed_current is not None and confirmed_current != now:
        raise ModelActionError(409, "changed_meanwhile", f"the current version is {now} now, not {confirmed_current} "
                                                         "as when you confirmed; look again before you act")
    return now


def _after_change(runtime, registry, what: str) -> None:
    log.info("model registry changed", extra={"change": what})
    sync_versions(runtime.store, registry)
    models = getattr(runtime, "models", None)
    if models is not None and models.loaded:  # else the first use loads the new current model anyway
        runtime.background.start(_refresh, models, name="admin-model-refresh")


def _refresh(models) -> None:
    try:
        models.refresh()
    except Exception as exc:  # the old model keeps serving; the holder's poll tries again
        log.warning("loading the new current model failed", extra={"error": str(exc)})
