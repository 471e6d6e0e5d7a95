"""`POST /admin/agents/<helpdesk>/<agent_id>/away`: the Assignment section's **Away until** and **Back now**.

Form fields: `date` (YYYY-MM-DD) and optional `time` (HH:MM), both UTC, or `until` (ISO 8601; without an
offset it is UTC) for scripts; `back=1` clears the mark. `csrf` for a browser. A date alone means the
start of that day. A moment that has passed, or more than a year ahead (a typo, surely), is refused
with 400; an agent no group read has stored is a JSON 404. The rules skip an agent while they are away
(`store.assignments.claim`). Bearer clients get JSON; a browser is sent back to the page, which reads the
agent's state back from the store.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta, timezone

from flask import abort, redirect, request, url_for
from sqlalchemy import select

from admin.auth import operator
from admin.paging import kept_args
from admin.blueprint import blueprint, check_csrf, no_such, runtime, wants_json
from admin.page import render_dashboard
from webhooks.http_errors import error_response
from store import audit
from store.assignments import set_away
from store.models import AgentLoad
from store.types import utcnow

FURTHEST = timedelta(days=366)
_HELPDESK = re.compile(r"[a-z]{1,32}")
_AGENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}")  # helpdesk agent ids are numbers; room for more
_MOST_CHARS = 40  # longer than any date and time we accept

log = logging.getLogger(__name__)


@blueprint.post("/agents/<helpdesk>/<agent_id>/away")
def away(helpdesk: str, agent_id: str):
    if not _HELPDESK.fullmatch(helpdesk) or not _AGENT.fullmatch(agent_id):
        abort(no_such("agent", f"{helpdesk}/{agent_id}"))
    check_csrf()
    until = None
    if request.form.get("back") != "1":
        try:
            until = away_until(request.form, utcnow())
        except ValueError as exc:
            if wants_json():
                return error_response(400, "bad_until", str(exc))
            return render_dashboard(400, str(exc))
    by = operator(request)
    with runtime().store.session() as session:
        agent = session.scalar(select(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id))
        was = _away(agent) if agent is not None else None
        known = set_away(session, helpdesk, agent_id, until, by)
        if known:  # in the same transaction as the mark
            audit.record(session, by, audit.AWAY, f"agent:{helpdesk}:{agent_id}", was,
                         {"away_until": until.isoformat() if until else None, "set_by": by if until else None})
    if not known:
        return no_such("agent", f"{helpdesk}/{agent_id}")
    log.info("agent marked from the admin page", extra={"helpdesk": helpdesk, "agent_id": agent_id,
                                                       "away_until": until.isoformat() if until else None})
    if wants_json():
        return {"status": "away" if until else "back", "helpdesk": helpdesk, "agent_id": agent_id,
                "away_until": until.isoformat() if until else None, "set_by": by if until else None}
    return redirect(url_for("admin.dashboard", agent=f"{helpdesk}:{agent_id}", **kept_args(request.form),
                            _anchor="assignment"), code=303)


def _away(agent: AgentLoad) -> dict:
    return {"away_until": agent.away_until.isoformat() if agent.away_until else None, "set_by": agent.away_set_by}


def away_until(form, now: datetime) -> datetime:
    """The moment the form names, in UTC; ValueError (with the words to show) when there is none, it has
    passed, or it is more than a year ahead."""
    given = (form.get("until") or "").strip()
    day, hour = (form.get("date") or "").strip(), (form.get("time") or "").strip()
    if not given and not day:
        raise ValueError("choose the date the agent is back (and a time, UTC, if not midnight)")
    try:
        if len(given) > _MOST_CHARS or len(day) > _MOST_CHARS or len(hour) > _MOST_CHARS:
            raise ValueError
        if given:
            moment = datetime.fromisoformat(given)
        else:
            moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour) if hour else time.min)
    except ValueError:
        raise ValueError(f"not a date and time: {(given or f'{day} {hour}'.strip())[:_MOST_CHARS]!r} "
                         "(YYYY-MM-DD and HH:MM, UTC)") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    if moment <= now:
        raise ValueError(f"{moment:%Y-%m-%d %H:%M} UTC has passed: choose a later date, or Back now")
    if moment > now + FURTHEST:
        raise ValueError(f"{moment:%Y-%m-%d %H:%M} UTC is more than a year ahead")
    return moment
