"""An app with the admin page on, over a real store holding a week of seeded activity."""
from __future__ import annotations

import pytest

from admin_seed import ADMIN_TOKEN, seed



@pytest.fixture
def seeded(store):
    return seed(store)


@pytest.fixture
def admin_app(make_app):
    return make_app(triage_admin_token=ADMIN_TOKEN)
