"""Shared fixtures: real SQLite and PostgreSQL stores, real Redis, the bundled model, a clean environment.

A missing PostgreSQL or Redis is a failure here, never a skip: CI starts both before the tests.
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers: `from helpdesk_signing import ...`

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("TRIAGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# one Redis database per pytest-xdist worker (gw0 -> 15, gw1 -> 14, ...): a worker's flush never empties another's
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_TEST_URL = os.environ.get("TRIAGE_TEST_REDIS", f"redis://127.0.0.1:6379/{15 - _WORKER}")
OUR_PREFIXES = ("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_", "DATABASE_URL", "REDIS_URL")


def pytest_collection_modifyitems(items):
    """Two tests with one id would be counted once by a parallel run (`-n 2`): refuse them outright."""
    seen, twice = set(), set()
    for item in items:
        (twice if item.nodeid in seen else seen).add(item.nodeid)
    if twice:
        raise pytest.UsageError("test ids must be unique; given twice: " + ", ".join(sorted(twice)[:5]))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No setting leaks in from the developer's shell or from another test."""
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES) and not name.startswith("TRIAGE_TEST_") and name != "TRIAGE_DATASETS_DIR":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def postgres_database():
    """One scratch PostgreSQL database for the session, dropped at the end."""
    import psycopg

    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url.replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every store test runs on both databases."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'triage.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    _truncate_all(url)


def _truncate_all(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    if tables:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def store(database_url):
    from store.database import Store

    store = Store(database_url)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def redis_url():
    import redis

    connection = redis.Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()


@pytest.fixture
def make_app(store, tmp_path):
    """Builds apps on the test store (webhook secrets set, models under tmp_path), closed at teardown."""
    from app import create_app
    from webhook_app import app_settings

    built = []

    def build(**settings):
        built.append(create_app(app_settings(store.url, **{"triage_model_dir": tmp_path / "models", **settings}),
                                env_file=None))
        return built[-1]

    yield build
    from api.predict_pool import stop_predict_pool

    for app in built:
        stop_predict_pool(app)  # its predict processes, if a /predict call started them
        app.extensions["triage"].close()


@pytest.fixture
def fake_zendesk():
    """A local server speaking the documented Zendesk API (tests/fake_zendesk.py)."""
    from fake_zendesk import FakeZendesk

    server = FakeZendesk().start()
    yield server
    server.stop()


@pytest.fixture
def fake_slack():
    """A local server speaking the Slack Web API methods we call (tests/fake_slack.py)."""
    from fake_slack import FakeSlack

    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def fake_freshdesk():
    from fake_freshdesk import FakeFreshdesk

    server = FakeFreshdesk().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def starter_model_path() -> Path:
    path = REPO / "models" / "starter"
    assert (path / "manifest.json").exists(), "the bundled starter model is missing (models/starter)"
    return path
