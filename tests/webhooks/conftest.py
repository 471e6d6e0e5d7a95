"""An app on a real store (SQLite and PostgreSQL), with both helpdesks' webhook secrets set."""
from __future__ import annotations

import pytest

from webhook_app import app_settings


@pytest.fixture
def app(store, tmp_path):
    from app import create_app

    app = create_app(app_settings(store.url, triage_model_dir=tmp_path / "models"), env_file=None)
    yield app
    app.extensions["triage"].close()


@pytest.fixture
def client(app):
    return app.test_client()
