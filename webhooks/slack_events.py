"""`POST /slack/events`: our checks, then bolt; every refusal is our JSON error, never a 5xx.

Checks run before anything reads the body or Slack's headers for meaning: size, then the signature
(slack_sdk's `SignatureVerifier`, the check bolt itself makes, after making sure the timestamp header
is Unix seconds: bolt's `int()` of anything else raised before the signature was looked at), then the
payload's shape. Only a verified, well-formed request reaches bolt, so bolt's own verification is off;
whatever bolt still raises or answers with a 5xx on such a request becomes a 400 here.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, current_app, request
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from webhooks.http_errors import error_response
from webhooks.request_body import BodyRefused, parse_json, read_body
from integrations.slack import slack_configured

log = logging.getLogger(__name__)
EXTENSION = "triage_slack"
TIMESTAMP_HEADER, SIGNATURE_HEADER = "X-Slack-Request-Timestamp", "X-Slack-Signature"
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "-5", " 7" or "١٢٣"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
blueprint = Blueprint("slack", __name__)


@dataclass(frozen=True)
class SlackEndpoint:
    """What the endpoint needs per app: the bolt app, the verifier and the body cap."""

    bolt: object  # slack_bolt.App
    verifier: SignatureVerifier
    max_body_bytes: int


def init_app(app: Flask, runtime, client: WebClient | None = None) -> None:
    """Mount the bolt app when Slack is on (`client`: a WebClient pointed elsewhere, for tests)."""
    settings = runtime.settings
    if slack_configured(settings):
        from integrations.slack.app_factory import build_slack_app

        app.extensions[EXTENSION] = SlackEndpoint(build_slack_app(runtime, client=client),
                                                  SignatureVerifier(settings.slack_signing_secret),
                                                  settings.triage_max_body_bytes)
    app.register_blueprint(blueprint)


@blueprint.post("/slack/events")
def events():
    endpoint: SlackEndpoint | None = current_app.extensions.get(EXTENSION)
    if endpoint is None:
        return error_response(404, "not_configured", "Slack is off: set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET "
                                                     "and SLACK_REVIEW_CHANNEL")
    try:
        text = verified_body(endpoint, read_body(endpoint.max_body_bytes))
        check_shape(payload_of(text, request.mimetype))
    except BodyRefused as exc:
        log.info("slack request refused", extra={"error": exc.code, "detail": exc.detail})
        return error_response(exc.status, exc.code, exc.detail)
    return dispatch(endpoint.bolt, text)


def verified_body(endpoint: SlackEndpoint, raw: bytes) -> str:
    """The body as text if Slack signed it within the last five minutes; else `BodyRefused` 401."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature:
        raise BodyRefused(401, "bad_signature", f"send the headers {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise BodyRefused(401, "bad_signature", f"{TIMESTAMP_HEADER} must be Unix seconds")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(401, "bad_signature", "the body is not UTF-8, so Slack did not sign it") from None
    if not _SIGNATURE.fullmatch(signature) or not endpoint.verifier.is_valid(text, timestamp, signature):
        raise BodyRefused(401, "bad_signature", f"{SIGNATURE_HEADER} does not match the body (wrong secret or "
                                                f"altered body), or {TIMESTAMP_HEADER} is over 5 minutes off")
    return text


def payload_of(text: str, mimetype: str) -> dict:
    """The JSON object Slack sent: the `payload` field of a form (interactivity), or a JSON body (events)."""
    if mimetype == "application/json" or text.startswith("{"):
        json_text = text
    else:
        json_text = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if json_text is None:
            raise BodyRefused(400, "malformed_payload", "a Slack form body carries its JSON in the field `payload`")
    try:
        payload = parse_json(json_text)
    except BodyRefused as exc:
        raise BodyRefused(400, "malformed_payload", exc.detail) from None
    if not isinstance(payload, dict):
        raise BodyRefused(400, "malformed_payload", "the Slack payload must be a JSON object")
    return payload


def check_shape(payload: dict) -> None:
    """The fields bolt and our click listener read; a block action must name its user, block and action."""
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise BodyRefused(400, "malformed_payload", "type: expected a string such as 'block_actions'")
    if kind != "block_actions":
        return  # bolt answers what it does not handle with 404
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise BodyRefused(400, "malformed_payload", "user.id: expected the clicking user's id")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise BodyRefused(400, "malformed_payload", "actions: expected a list of the actions taken")
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            raise BodyRefused(400, "malformed_payload", f"actions.{index}: expected an object")
        for name in ("action_id", "block_id"):
            if not isinstance(action.get(name), str):
                raise BodyRefused(400, "malformed_payload", f"actions.{index}.{name}: expected a string")
    for name in ("channel", "container", "message"):  # the click listener reads ids out of these
        if not isinstance(payload.get(name), (dict, type(None))):
            raise BodyRefused(400, "malformed_payload", f"{name}: expected an object")


def dispatch(bolt, text: str):
    """Bolt's answer to a verified request; its failures (exception or 5xx) become our 400 or 404 JSON."""
    from slack_bolt.adapter.flask.handler import to_flask_response
    from slack_bolt.request import BoltRequest

    try:
        answer = bolt.dispatch(BoltRequest(body=text, query=request.query_string.decode("utf-8", "replace"),
                                           headers=dict(request.headers.items())))
    except Exception as exc:
        log.warning("bolt failed on a verified request", extra={"error": type(exc).__name__})
        return error_response(400, "malformed_payload", "the Slack payload could not be read")
    if answer.status == 404:
        return error_response(404, "unhandled_request", "triage handles only its review buttons and menu")
    if answer.status >= 400:
        log.warning("bolt refused a verified request", extra={"status": answer.status})
        return error_response(400, "malformed_payload", "the Slack payload could not be handled")
    return to_flask_response(answer)
