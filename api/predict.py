"""`POST /predict` and `POST /predict/batch`: the classifier for internal tools, behind bearer keys."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from api.errors import error_response
from api.openapi import openapi_document
from api.request_body import BodyRefused, parse_json, read_body
from api.schemas import BatchIn, TicketIn

log = logging.getLogger(__name__)
blueprint = Blueprint("predict", __name__)


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config.get("TRIAGE_VERSION", "0")))


@blueprint.post("/predict")
def predict_one():
    return _answer(TicketIn, lambda model, body: model.predict(body.to_ticket()).to_dict())


@blueprint.post("/predict/batch")
def predict_batch():
    return _answer(BatchIn, lambda model, body: {
        "predictions": [p.to_dict() for p in model.predict_batch([t.to_ticket() for t in body.tickets])]})


def _answer(schema: type[BaseModel], predict):
    """Key check, then request validation, then the model: the first that fails answers."""
    refused = _refuse_unauthorised()
    if refused is not None:
        return refused
    parsed = _parse(schema)
    if not isinstance(parsed, schema):
        return parsed
    model = current_app.extensions["triage"].models.get()
    try:
        return jsonify(predict(model, parsed))
    except Exception as exc:
        # The request passed validation, so a model that fails on it fails on this input: 400, and logged
        # in full, since it is still our bug. (A model that cannot load fails above, in `models.get()`.)
        log.exception("the model failed on a valid request")
        return error_response(400, "unclassifiable", f"the model could not classify this input "
                                                     f"({type(exc).__name__}); the error has been logged")


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
