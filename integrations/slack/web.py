"""`POST /slack/events`: bolt's Flask adapter when Slack is configured, else a JSON 404."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from slack_sdk import WebClient

from api.errors import error_response
from integrations.slack import slack_configured

EXTENSION = "triage_slack"
blueprint = Blueprint("slack", __name__)


def init_app(app: Flask, runtime, client: WebClient | None = None) -> None:
    """Mount the bolt app when Slack is on (`client`: a WebClient pointed elsewhere, for tests)."""
    if slack_configured(runtime.settings):
        from slack_bolt.adapter.flask import SlackRequestHandler

        from integrations.slack.app_factory import build_slack_app

        app.extensions[EXTENSION] = SlackRequestHandler(build_slack_app(runtime, client=client))
    app.register_blueprint(blueprint)


@blueprint.post("/slack/events")
def events():
    handler = current_app.extensions.get(EXTENSION)
    if handler is None:
        return error_response(404, "not_configured", "Slack is off: set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET "
                                                     "and SLACK_REVIEW_CHANNEL")
    return handler.handle(request)
