"""The review queue's rows as the page draws them: the categories a reviewer may choose and, for each, the
group and assignee the routing file gives on the ticket's helpdesk (shown, not editable: the page writes
exactly the route a Slack click writes, `integrations.route.build_route`).

A ticket with a prediction offers that model's categories, likeliest first (as Slack's menu does); one
without (a review queued before its prediction was kept) offers the serving model's and the routing file's.
"""
from __future__ import annotations

from integrations.route import build_route


def review_rows(reviews: list[dict], runtime) -> list[dict]:
    fallback = None
    for review in reviews:
        choices = review["choices"]
        if not choices:
            fallback = fallback if fallback is not None else [(c, None) for c in known_categories(runtime)]
            choices = fallback
        review["options"] = [_option(category, p, review["helpdesk"], runtime.routing) for category, p in choices]
    return reviews


def known_categories(runtime) -> list[str]:
    """The serving model's labels (from its manifest, without loading it) and the routing file's categories."""
    from classifier.artifact import ArtifactError, read_manifest
    from classifier.registry import ModelRegistry, RegistryError

    settings = runtime.settings
    labels: list[str] = []
    try:
        manifest = read_manifest(ModelRegistry(settings.triage_model_dir, settings.triage_starter_model).current_path())
        labels = list((manifest.get("labels") or {}).get(manifest.get("main_label"), []))
    except (ArtifactError, RegistryError, OSError):
        pass
    return sorted(set(labels) | set(runtime.routing.categories))


def _option(category: str, probability: float | None, helpdesk: str, routing) -> dict:
    route = build_route(category, helpdesk, routing)
    return {"category": category, "probability": probability, "group": route.group, "assignee": route.assignee,
            "routing": describe_route(route.group, route.assignee)}


def describe_route(group, assignee) -> str:
    if group is None and assignee is None:
        return "no group or assignee in the routing file: tags only"
    parts = [f"group {group}" if group is not None else "no group", f"assignee {assignee}"
             if assignee is not None else "no assignee"]
    return ", ".join(parts)
