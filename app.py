"""The Flask app factory. A WSGI server's `app:app` builds the app on first access (see `__getattr__`)."""
from __future__ import annotations

from flask import Flask, g

from config.settings import Settings
from config.validation import load_settings
from telemetry.json_logs import JsonFormatter, configure_logging  # noqa: F401  (app.configure_logging: old name)
from telemetry.log_context import bind_request_id, unbind_request_id
from webhooks.runtime import Runtime, build_runtime


def create_app(overrides: dict | None = None, env_file: str | None = ".env", runtime: Runtime | None = None,
               workers: str = "here") -> Flask:
    """Build the web app; `overrides` are settings by field name (tests), `runtime` shares a process's parts,
    `workers` says where the inbox is drained (see `webhooks.runtime`; `triage web`'s app: elsewhere)."""
    settings: Settings = runtime.settings if runtime else load_settings(overrides, env_file=env_file)
    configure_logging(settings=settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.triage_max_body_bytes
    app.extensions["triage"] = runtime or build_runtime(settings, workers=workers)

    from webhooks.http_errors import install_error_handlers
    from api.health import blueprint as health
    from api.predict import blueprint as predict
    from admin import views as admin
    from webhooks import slack_events as slack
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
    if name == "app":  # a WSGI server's `app:app`; built on demand, never at import; tickets run in `triage worker`
        return create_app(workers="elsewhere")
    raise AttributeError(name)
