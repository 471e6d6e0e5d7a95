"""Every error we answer is JSON: {"error": "<code>", "detail": "<what is wrong, for a person>"}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def error_response(status: int, code: str, detail: str):
    response = jsonify(error=code, detail=detail)
    response.status_code = status
    return response


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return error_response(413, "payload_too_large", f"the body is larger than {limit} bytes")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")
