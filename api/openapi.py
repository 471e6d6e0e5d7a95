"""The OpenAPI 3.1 document of the predict API, built from the pydantic models."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from api.schemas import BatchIn, BatchOut, ErrorOut, PredictionOut, TicketIn


# Every error a predict call can answer (besides 405 for another method, with `Allow`), with its JSON body.
ERRORS = (
    (400, "invalid request (`invalid_request`, `invalid_json`), or an input the model cannot classify "
          "(`unclassifiable`)", False),
    (401, "missing or wrong API key (`unauthorized`)", False),
    (404, "the predict API is off: no TRIAGE_API_KEYS (`not_configured`)", False),
    (413, "the body is larger than TRIAGE_MAX_BODY_BYTES (`payload_too_large`)", False),
    (429, "every predict process is taken and the queue is full (`busy`); try again after Retry-After", True),
    (503, "the prediction was stopped, its process died, or the model cannot load (`unavailable`); "
          "try again after Retry-After", True),
)


def openapi_document(version: str) -> dict:
    _, schemas = models_json_schema(
        [(m, "validation") for m in (TicketIn, BatchIn)] + [(m, "serialization") for m in (PredictionOut, BatchOut, ErrorOut)],
        ref_template="#/components/schemas/{model}",
    )
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    retry_after = {"Retry-After": {"description": "seconds to wait before trying again", "required": True,
                                   "schema": {"type": "integer", "minimum": 0}}}
    errors = {str(status): {"description": text, "content": error_body, **({"headers": retry_after} if retry else {})}
              for status, text, retry in ERRORS}

    def operation(summary: str, request: str, response: str) -> dict:
        return {
            "summary": summary,
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}}},
            "responses": {"200": {"description": "prediction", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}}}}, **errors},
        }

    return {
        "openapi": "3.1.0",
        "info": {"title": "triage predict API", "version": version},
        "paths": {
            "/predict": {"post": operation("Classify one ticket", "TicketIn", "PredictionOut")},
            "/predict/batch": {"post": operation("Classify up to 1,000 tickets", "BatchIn", "BatchOut")},
        },
        "components": {"schemas": schemas["$defs"], "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
