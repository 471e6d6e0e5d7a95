"""An app with the admin page on, over a real store holding a week of seeded activity."""
from __future__ import annotations

import pytest

from admin_seed import ADMIN_TOKEN, seed
from webhook_app import app_settings



@pytest.fixture
def seeded(store):
    return seed(store)


@pytest.fixture
def admin_app(store, tmp_path):
    from app import create_app

    app = create_app(app_settings(store.url, triage_model_dir=tmp_path / "models", triage_admin_token=ADMIN_TOKEN),
                     env_file=None)
    yield app
    app.extensions["triage"].close()
