"""The fuzz suite's fixtures: apps and a store on PostgreSQL only, emptied between generated examples.

Apps are built once per module (building one costs more than a hundred requests); each example or seed
empties the tables itself (`fuzz_support.empty_tables`). Every hypothesis test takes its settings from
`fuzz_support.fuzz_settings(n)`: `n` derandomized examples in CI, or `TRIAGE_FUZZ_EXAMPLES` random ones
per test for a longer local exploration.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `from fuzz_support import ...`


@pytest.fixture(autouse=True)
def record_server_errors():
    """Every 5xx in this suite is reported with the exception the app logged for it."""
    from fuzz_support import SERVER_ERRORS

    SERVER_ERRORS.take()
    logging.getLogger().addHandler(SERVER_ERRORS)
    yield
    logging.getLogger().removeHandler(SERVER_ERRORS)


@pytest.fixture(scope="module")
def pg_store(postgres_database):
    """The session's PostgreSQL database, migrated, emptied before and after the module."""
    from store.database import Store

    from fuzz_support import empty_tables

    store = Store(postgres_database)
    store.upgrade()
    empty_tables(store)
    yield store
    empty_tables(store)
    store.dispose()


@pytest.fixture(scope="module")
def make_pg_app(pg_store, tmp_path_factory):
    """`make_app` on PostgreSQL alone and per module: webhook secrets set, closed at the module's end.

    The autouse `clean_environment` is function-scoped, so the environment is cleaned here as well."""
    from app import create_app
    from webhook_app import app_settings

    from fuzz_support import clean_environment

    built = []
    models = tmp_path_factory.mktemp("fuzz-models")

    def build(**settings):
        with clean_environment():
            built.append(create_app(app_settings(pg_store.url, **{"triage_model_dir": models, **settings}),
                                    env_file=None))
        return built[-1]

    yield build
    for app in built:
        app.extensions["triage"].close()


@pytest.fixture(scope="module")
def pg_app(make_pg_app):
    return make_pg_app()


@pytest.fixture(scope="module")
def api_app(make_pg_app):
    """The predict API and the admin page on (keys in `fuzz_support`), Slack off."""
    from fuzz_support import ADMIN_TOKEN, API_KEY

    return make_pg_app(triage_api_keys=[API_KEY], triage_admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="module")
def module_fake_slack():
    from fake_slack import FakeSlack

    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slack_client(make_pg_app, module_fake_slack):
    """An app with Slack configured against the fake Web API (tests/slack/conftest.py's settings)."""
    from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
    from slack_interactions import SIGNING_SECRET

    return make_pg_app(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                       slack_review_channel=REVIEW_CHANNEL, slack_api_url=module_fake_slack.url).test_client()
