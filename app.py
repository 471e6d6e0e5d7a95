"""The Flask app factory. `gunicorn app:app` builds the app on first access (see `__getattr__`)."""
from __future__ import annotations

import json
import logging
import sys

from flask import Flask, g

from config.settings import Settings, load_settings
from telemetry.log_context import RequestIdFilter, bind_request_id, unbind_request_id
from telemetry.redaction import SecretRedactor, secret_values
from webhooks.runtime import Runtime, build_runtime

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


def create_app(overrides: dict | None = None, env_file: str | None = ".env", runtime: Runtime | None = None,
               workers: str = "here") -> Flask:
    """Build the web app; `overrides` are settings by field name (tests), `runtime` shares a process's parts,
    `workers` says where the inbox is drained (see `webhooks.runtime`; gunicorn's app: elsewhere)."""
    settings: Settings = runtime.settings if runtime else load_settings(overrides, env_file=env_file)
    configure_logging(settings=settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.triage_max_body_bytes
    app.extensions["triage"] = runtime or build_runtime(settings, workers=workers)

    from api.errors import install_error_handlers
    from api.health import blueprint as health
    from api.predict import blueprint as predict
    from admin import views as admin
    from integrations.slack import web as slack
    from telemetry import exposition as metrics
    from webhooks.receivers import assign_request_id, blueprint as webhooks

    install_error_handlers(app)
    for blueprint in (webhooks, predict, health):
        app.register_blueprint(blueprint)
    slack.init_app(app, app.extensions["triage"])  # bolt on POST /slack/events when Slack is configured
    metrics.init_app(app, app.extensions["triage"])  # GET /metrics
    admin.init_app(app)  # GET /admin when TRIAGE_ADMIN_TOKEN is set
    app.before_request(assign_request_id)

    @app.before_request
    def _bind_request_id():  # every log line of this request carries its id
        g.request_id_token = bind_request_id(g.request_id)

    @app.teardown_request
    def _unbind_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            unbind_request_id(token)

    @app.after_request
    def _tag_response(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    return app


def __getattr__(name: str):
    if name == "app":  # gunicorn's `app:app`; built on demand, never at import; tickets run in `triage worker`
        return create_app(workers="elsewhere")
    raise AttributeError(name)
