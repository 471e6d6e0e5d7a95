"""`/readyz` checks the helpdesk and Slack credentials against the fake vendors: good, bad, slow, cached."""
from __future__ import annotations

import time

import pytest

from fake_freshdesk import API_KEY
from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from fake_zendesk import EMAIL, TOKEN
from integrations.credentials import CredentialChecks, check_zendesk
from webhook_app import app_settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def readiness(app) -> tuple[int, dict]:
    queue = app.extensions["triage"].queue
    queue.start()
    try:
        response = app.test_client().get("/readyz")
    finally:
        queue.stop()
    return response.status_code, response.get_json()["checks"]


def zendesk(fake, token=TOKEN) -> dict:
    return {"zendesk_api_url": fake.url, "zendesk_email": EMAIL, "zendesk_api_token": token}


def freshdesk(fake, key=API_KEY) -> dict:
    return {"freshdesk_api_url": fake.url, "freshdesk_api_key": key}


def slack(fake, token=BOT_TOKEN) -> dict:
    return {"slack_bot_token": token, "slack_signing_secret": "s", "slack_review_channel": REVIEW_CHANNEL,
            "slack_api_url": fake.url}


def test_good_credentials_are_ready(make_app, fake_zendesk, fake_freshdesk, fake_slack):
    status, checks = readiness(make_app(**zendesk(fake_zendesk), **freshdesk(fake_freshdesk), **slack(fake_slack)))
    assert status == 200, checks
    assert {name: checks[name] for name in ("helpdesk:zendesk", "helpdesk:freshdesk", "slack")} == \
        {"helpdesk:zendesk": "ok", "helpdesk:freshdesk": "ok", "slack": "ok"}
    assert [call.path for call in fake_zendesk.calls()] == ["/api/v2/users/me.json"]
    assert [call.path for call in fake_freshdesk.calls()] == ["/api/v2/agents/me"]
    assert [call.method for call in fake_slack.calls] == ["auth.test"]


def test_wrong_credentials_are_not_ready_and_say_what_to_fix(make_app, fake_zendesk, fake_freshdesk, fake_slack):
    app = make_app(**zendesk(fake_zendesk, token="wrong"), **freshdesk(fake_freshdesk, key="wrong"),
                   **slack(fake_slack, token="xoxb-wrong"))
    status, checks = readiness(app)
    assert status == 503
    assert checks["helpdesk:zendesk"] == "failed: zendesk answered 401 (check ZENDESK_EMAIL / ZENDESK_API_TOKEN)"
    assert checks["helpdesk:freshdesk"] == "failed: freshdesk answered 401 (check FRESHDESK_API_KEY)"
    assert checks["slack"] == "failed: slack answered invalid_auth (check SLACK_BOT_TOKEN)"
    assert (checks["store"], checks["model"], checks["queue"]) == ("ok", "ok", "ok")


def test_a_wrong_address_is_not_ready(make_app, fake_freshdesk):
    fake_freshdesk.fail(404, count=1, path_prefix="/api/v2/agents/me")
    status, checks = readiness(make_app(**freshdesk(fake_freshdesk)))
    assert status == 503
    assert checks["helpdesk:freshdesk"] == ("failed: freshdesk answered 404: no such account or API "
                                            "(check FRESHDESK_DOMAIN / FRESHDESK_API_URL)")


def test_a_vendor_outage_is_reported_but_leaves_the_service_ready(make_app, fake_zendesk, fake_slack):
    fake_zendesk.fail(503, count=1)
    fake_slack.fail("auth.test", 500)
    status, checks = readiness(make_app(**zendesk(fake_zendesk), **slack(fake_slack)))
    assert status == 200, checks
    assert checks["helpdesk:zendesk"].startswith("unreachable: zendesk: HTTP 503")
    assert checks["slack"].startswith("unreachable: slack answered HTTP 500")


def test_dry_run_helpdesks_and_an_unconfigured_slack_are_not_checked(make_app):
    status, checks = readiness(make_app())
    assert status == 200 and set(checks) == {"store", "model", "queue"}


def test_answers_are_cached_per_process(make_app, fake_zendesk):
    app = make_app(**zendesk(fake_zendesk, token="wrong"))
    assert readiness(app)[0] == readiness(app)[0] == 503
    assert len(fake_zendesk.calls(path_prefix="/api/v2/users/me")) == 1


def test_the_cache_expires(store, fake_zendesk):
    from config.validation import load_settings

    now = [0.0]
    settings = load_settings(app_settings(store.url, **zendesk(fake_zendesk)), env_file=None)
    checks = CredentialChecks(settings, store, ttl=60, clock=lambda: now[0])
    assert checks.results()["helpdesk:zendesk"].detail == "ok"
    now[0] = 59.0
    checks.results()
    now[0] = 61.0
    checks.results()
    assert len(fake_zendesk.calls(path_prefix="/api/v2/users/me")) == 2


def test_a_slow_helpdesk_is_given_up_on_within_the_timeout(store, fake_zendesk):
    from config.validation import load_settings

    fake_zendesk.fail(200, count=1, delay=6)
    settings = load_settings(app_settings(store.url, **zendesk(fake_zendesk)), env_file=None)
    started = time.monotonic()
    result = check_zendesk(settings, store)
    assert time.monotonic() - started < 4.5
    assert result.ready and result.detail.startswith("unreachable: zendesk: ReadTimeout")
