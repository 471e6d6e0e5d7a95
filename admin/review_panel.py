"""The review queue's rows as the page draws them: the categories a reviewer may choose and, for each, the
group and assignee the routing file gives on the ticket's helpdesk (shown, not editable: the page writes
exactly the route a Slack click writes, `integrations.route.build_route`).

A ticket with a prediction offers that model's categories, likeliest first (as Slack's menu does); one
without (a review queued before its prediction was kept) offers the serving model's and the routing file's.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from admin.paging import AGE_FILTER, HELPDESK_FILTER, Filter, age_cutoff, fetch_page, read_page, search_clause
from integrations.links import ticket_url
from integrations.review_queue import open_reviews_select, review_dict
from integrations.route import build_route
from store.models import PredictionRecord, ReviewMessage, TicketRecord

WHERE = (("slack", "in Slack"), ("page", "this page only"))


def review_page(session: Session, runtime, args, now: datetime, strict: bool = False) -> dict:
    """One page of the review queue as asked in the query string (`reviews.*`), its rows ready to draw, and the
    number waiting in all (the heading), whatever the filters."""
    filters = [Filter("state", "where", WHERE),
               Filter("category", "model's guess", _category_choices(session, runtime)), HELPDESK_FILTER, AGE_FILTER]
    query = read_page(args, "reviews", filters, strict=strict)
    conditions = [search_clause(query.search, TicketRecord.external_id, TicketRecord.subject)]
    where, category, helpdesk = query.get("state"), query.get("category"), query.get("helpdesk")
    if where is not None:
        conditions.append(ReviewMessage.ts.is_not(None) if where == "slack" else ReviewMessage.ts.is_(None))
    if category is not None:
        conditions.append(PredictionRecord.category == category)
    if helpdesk is not None:
        conditions.append(TicketRecord.helpdesk == helpdesk)
    cutoff = age_cutoff(query.get("age"), now)
    if cutoff is not None:
        conditions.append(ReviewMessage.created_at <= cutoff)
    page = fetch_page(session, open_reviews_select(*conditions), query)
    waiting = page.total if not query.active else _open_count(session)
    page.overall = waiting
    page.rows = review_rows([review_dict(row) for row in page.rows], runtime)
    return {"page": page, "rows": page.rows, "waiting": waiting}


def _open_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReviewMessage).where(ReviewMessage.state == "open")) or 0


def _category_choices(session: Session, runtime) -> tuple[tuple[str, str], ...]:
    """The categories a filter may name: the model's and routing file's, and any guess a waiting ticket has."""
    guessed = session.scalars(select(PredictionRecord.category).distinct()
                              .join(ReviewMessage, and_(ReviewMessage.delivery_id == PredictionRecord.delivery_id,
                                                        PredictionRecord.role == "champion"))
                              .where(ReviewMessage.state == "open"))
    names = sorted({name for name in guessed if name} | set(known_categories(runtime)))
    return tuple((name, name) for name in names)


def review_rows(reviews: list[dict], runtime) -> list[dict]:
    fallback = None
    for review in reviews:
        review["url"] = ticket_url(review["helpdesk"], review["external_id"], runtime.settings)
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
