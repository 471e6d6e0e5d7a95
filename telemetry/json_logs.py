"""JSON log lines on stderr, each with the request id bound at the time and the settings' secrets redacted.

Kept apart from `app` so that a process that only supervises or logs (`triage serve`'s supervisor, `triage
web --processes N`'s parent) does not import the web app, the store and the classifier just to log.
"""
from __future__ import annotations

import json
import logging
import sys

from telemetry.log_context import RequestIdFilter
from telemetry.redaction import SecretRedactor, secret_values

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}  # set by other handlers' formatters


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra=` fields become keys (never pass secrets or ticket bodies)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        entry.pop("exc_text", None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # an exception the redactor cleaned
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO, settings: Settings | None = None) -> None:
    """JSON lines on stderr, each with the request id bound at the time; `settings`' secrets are redacted."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h.formatter, JsonFormatter)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        handler.addFilter(SecretRedactor())
        root.addHandler(handler)
        root.setLevel(level)
    if settings is not None:
        for redactor in (f for f in handler.filters if isinstance(f, SecretRedactor)):
            redactor.add(secret_values(settings))
