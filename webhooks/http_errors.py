"""Every error we answer is JSON: {"error": "<code>", "detail": "<what is wrong, for a person>"}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# The headers an HTTPException carries that describe the body werkzeug would have written: ours replaces it.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None):
    response = jsonify(error=code, detail=detail)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def exception_headers(exc: HTTPException) -> dict[str, str]:
    """What the exception says besides its body (`Allow` on a 405, `Retry-After` on a 429 or 503, ...)."""
    return {name: value for name, value in exc.get_headers() if name.lower() not in _BODY_HEADERS}


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        headers = exception_headers(exc)
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return error_response(413, "payload_too_large", f"the body is larger than {limit} bytes", headers)
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")
