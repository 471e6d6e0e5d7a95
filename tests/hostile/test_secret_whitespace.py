"""Secrets pasted with a trailing newline or space (issue 12): the whitespace is removed, and start-up says
so in a warning that names the variable, never its value. Deliveries signed with the real secret are then
accepted, on SQLite and PostgreSQL (`make_app`).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from config.settings import SECRET_SETTINGS
from config.validation import load_settings
from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "s3cr3t-value-never-logged"
TICKET = json.dumps({"ticket_id": "31337", "subject": "Refund", "description": "money back please"}).encode()


def warnings_of(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "config.settings" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("name", [*SECRET_SETTINGS, "triage_api_keys"])
@pytest.mark.parametrize("pasted", [SECRET + "\n", SECRET + " ", "\t" + SECRET + "\r\n"],
                         ids=["newline", "space", "both"])
def test_whitespace_around_a_secret_is_removed_with_a_warning_naming_the_variable(monkeypatch, caplog, name, pasted):
    monkeypatch.setenv(name.upper(), pasted)
    if name == "slack_bot_token":  # the bot needs its companions
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "other")
        monkeypatch.setenv("SLACK_REVIEW_CHANNEL", "C0REVIEW")
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        settings = load_settings(env_file=None)
    value = getattr(settings, name)
    assert value == ([SECRET] if name == "triage_api_keys" else SECRET)
    [warning] = warnings_of(caplog)
    assert name.upper() in warning.getMessage() and warning.variable == name.upper()
    assert SECRET not in caplog.text


def test_a_clean_secret_and_spaces_after_commas_are_not_warned_about(monkeypatch, caplog):
    monkeypatch.setenv("FRESHDESK_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TRIAGE_API_KEYS", "key-one, key-two")
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        settings = load_settings(env_file=None)
    assert settings.triage_api_keys == ["key-one", "key-two"] and warnings_of(caplog) == []


def test_a_blank_secret_counts_as_missing(monkeypatch):
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", " \n")
    assert load_settings(env_file=None).zendesk_webhook_secret == ""


def test_deliveries_signed_with_the_real_secret_are_accepted(make_app):
    app = make_app(zendesk_webhook_secret=ZENDESK_SECRET + "\n", freshdesk_webhook_secret=FRESHDESK_SECRET + " ")
    client = app.test_client()
    zendesk = client.post("/webhooks/zendesk", data=TICKET, headers={
        "Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, TICKET)})
    assert zendesk.status_code == 202, zendesk.get_data()
    freshdesk_body = (FIXTURES / "freshdesk" / "ticket_created__simple.json").read_bytes()
    freshdesk = client.post("/webhooks/freshdesk", data=freshdesk_body, headers={
        "Content-Type": "application/json", **freshdesk_headers(FRESHDESK_SECRET)})
    assert freshdesk.status_code == 202, freshdesk.get_data()
