"""`POST /predict` and `POST /predict/batch`: the classifier for internal tools, behind bearer keys."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from webhooks.http_errors import error_response
from api.openapi import openapi_document
from api.predict_pool import Busy, Unavailable, Unclassifiable, predict_pool
from webhooks.request_body import BodyRefused, drain_refused_body, parse_json, read_body
from api.schemas import BatchIn, TicketIn
from telemetry.metrics import PREDICT_REFUSED

log = logging.getLogger(__name__)
blueprint = Blueprint("predict", __name__)


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config.get("TRIAGE_VERSION", "0")))


@blueprint.record_once
def _preload(state) -> None:
    """With TRIAGE_PRELOAD_MODEL (and the API on), the predict processes start with the app."""
    settings = state.app.extensions["triage"].settings
    if settings.triage_preload_model and settings.triage_api_keys:
        predict_pool(state.app).start()


@blueprint.post("/predict")
def predict_one():
    return _answer(TicketIn, lambda body: [body.to_ticket()], lambda result: result)


@blueprint.post("/predict/batch")
def predict_batch():
    return _answer(BatchIn, lambda body: [t.to_ticket() for t in body.tickets], lambda result: {"predictions": result})


def _answer(schema: type[BaseModel], tickets_of, shape):
    """Key check, then request validation, then a place in the predict pool, then the model (in a child
    process): the first that fails answers."""
    refused = _refuse_unauthorised()
    if refused is not None:
        return refused
    pool = predict_pool(current_app)
    try:
        # While every place is taken, a refusal must cost next to nothing: reading and validating 1,000
        # tickets costs the web process ~10 ms of CPU, and a greedy client retries at once. So a full pool
        # answers 429 before the body is read (a malformed body then gets its 400 on a later try).
        pool.check_room()
    except Busy as exc:
        drain_refused_body()
        return _busy(exc)
    parsed = _parse(schema)
    if not isinstance(parsed, schema):
        return parsed
    try:
        with pool.place():  # taken for real only now, after validation and before any model work
            result = pool.predict(tickets_of(parsed), batch=schema is BatchIn)
        return jsonify(shape(result))
    except Busy as exc:
        return _busy(exc)
    except Unavailable as exc:
        PREDICT_REFUSED.labels(exc.reason).inc()
        return _retry_later(503, "unavailable", exc.detail, exc.retry_after)
    except Unclassifiable as exc:
        # The request passed validation, so a model that fails on it fails on this input: 400 (the predict
        # process logged it in full, since it is still our bug).
        return error_response(400, "unclassifiable", f"the model could not classify this input "
                                                     f"({exc}); the error has been logged")


def _busy(exc: Busy):
    PREDICT_REFUSED.labels("busy").inc()
    pool = predict_pool(current_app)
    return _retry_later(429, "busy", f"every predict process is taken and {pool.queue} call(s) already wait "
                                     f"(TRIAGE_PREDICT_PROCESSES={pool.processes}, TRIAGE_PREDICT_QUEUE={pool.queue}); "
                                     f"try again in {exc.retry_after} s", exc.retry_after)


def _retry_later(status: int, code: str, detail: str, seconds: int):
    return error_response(status, code, detail, {"Retry-After": str(seconds)})


def _refuse_unauthorised():
    keys = current_app.extensions["triage"].settings.triage_api_keys
    if not keys:
        return error_response(404, "not_configured", "the predict API is off: set TRIAGE_API_KEYS to turn it on")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return error_response(401, "unauthorized", "send the header Authorization: Bearer <key>")
    if not any(hmac.compare_digest(given.encode(), key.encode()) for key in keys):
        return error_response(401, "unauthorized", "that API key is not one of TRIAGE_API_KEYS")
    return None


def _parse(model: type[BaseModel]):
    try:
        data = parse_json(read_body(current_app.extensions["triage"].settings.triage_max_body_bytes))
    except BodyRefused as exc:
        return error_response(exc.status, exc.code, exc.detail)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])[:200] or "body"
        reason = first["msg"].removeprefix("Value error, ")  # our own validators' messages
        return error_response(400, "invalid_request", f"{where}: {reason} ({exc.error_count()} problem(s) in all)")
