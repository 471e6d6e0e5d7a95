"""Real adapters (zenpy, requests) pointed at the fake Zendesk and Freshdesk servers (tests/conftest.py) through the
*_API_URL overrides, on a real store (SQLite and PostgreSQL) that holds the rate budgets."""
from __future__ import annotations

import pytest

from helpdesk_settings import helpdesk_settings


@pytest.fixture
def zendesk(store, fake_zendesk):
    from integrations.registry import build_helpdesk

    return build_helpdesk("zendesk", helpdesk_settings(store, zendesk=fake_zendesk), store)


@pytest.fixture
def freshdesk(store, fake_freshdesk):
    from integrations.registry import build_helpdesk

    return build_helpdesk("freshdesk", helpdesk_settings(store, freshdesk=fake_freshdesk), store)
