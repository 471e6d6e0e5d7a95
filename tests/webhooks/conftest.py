"""An app on a real store (SQLite and PostgreSQL), with both helpdesks' webhook secrets set."""
from __future__ import annotations

import pytest



@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
