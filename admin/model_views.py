"""Promote and roll back, each in two steps: `GET` shows what will happen (the version, its metrics beside
the current one's) with a form; that form's `POST` does it. Bearer clients may post directly.

A version in the URL is a registry folder name; text no folder can be named (path separators, `..`,
over 64 characters) is a JSON 404 before anything reads the registry.
"""
from __future__ import annotations


from flask import make_response, redirect, render_template, request, url_for

from admin import auth
from admin.model_actions import ModelActionError, promote, promotion_plan, rollback, rollback_plan
from admin.blueprint import blueprint, check_csrf, keyring, no_such, runtime, version_id, wants_json
from webhooks.http_errors import error_response

@blueprint.get("/models/<version>/promote")
def confirm_promote(version: str):
    if version_id(version) is None:
        return no_such("model version", version)
    return _confirm(lambda: promotion_plan(runtime().settings, version))


@blueprint.post("/models/<version>/promote")
def do_promote(version: str):
    if version_id(version) is None:
        return no_such("model version", version)
    check_csrf()
    try:
        promote(runtime(), version, _confirmed_current(), auth.operator(request))
    except ModelActionError as exc:
        return _refused(exc)
    if wants_json():
        return {"status": "promoted", "current": version}
    return redirect(url_for("admin.dashboard", promoted=version, _anchor="models"), code=303)


@blueprint.get("/models/rollback")
def confirm_rollback():
    return _confirm(lambda: rollback_plan(runtime().settings))


@blueprint.post("/models/rollback")
def do_rollback():
    check_csrf()
    try:
        now = rollback(runtime(), _confirmed_current(), auth.operator(request))
    except ModelActionError as exc:
        return _refused(exc)
    if wants_json():
        return {"status": "rolled_back", "current": now}
    return redirect(url_for("admin.dashboard", rolled_back=now, _anchor="models"), code=303)


def _confirmed_current() -> str | None:
    """The version the confirmation page showed as current; a browser must send it, a script may."""
    given = request.form.get("current")
    if given is None and not wants_json():
        return ""  # matches no version: a browser form without it was not made by our page
    return given


def _confirm(plan):
    try:
        found = plan()
    except ModelActionError as exc:
        return _refused(exc)
    response = make_response(render_template("admin/confirm_model.html", plan=found,
                                             csrf=auth.csrf_token(request, keyring()),
                                             poll_seconds=runtime().settings.triage_model_poll_seconds))
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: ModelActionError):
    if wants_json():
        return error_response(exc.status, exc.code, exc.detail)
    response = make_response(render_template("admin/refused.html", status=exc.status, detail=exc.detail), exc.status)
    response.headers["Cache-Control"] = "no-store"
    return response
