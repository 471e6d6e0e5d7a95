"""The OpenAPI 3.1 document of the predict API, built from the pydantic models."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from api.schemas import BatchIn, BatchOut, ErrorOut, PredictionOut, TicketIn


def openapi_document(version: str) -> dict:
    _, schemas = models_json_schema(
        [(m, "validation") for m in (TicketIn, BatchIn)] + [(m, "serialization") for m in (PredictionOut, BatchOut, ErrorOut)],
        ref_template="#/components/schemas/{model}",
    )
    errors = {
        str(status): {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for status, text in ((400, "invalid request, or an input the model cannot classify"),
                             (401, "missing or wrong API key"), (404, "the predict API is off (no TRIAGE_API_KEYS)"),
                             (413, "body too large"))
    }

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
