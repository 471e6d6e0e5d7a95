"""Settings for adapters under test: the helpdesk API URL overrides pointed at the fake servers."""
from __future__ import annotations

from fake_freshdesk import API_KEY
from fake_zendesk import EMAIL, TOKEN


def helpdesk_settings(store, zendesk=None, freshdesk=None, zendesk_token: str = TOKEN, **more):
    from config.validation import load_settings

    values: dict = {"database_url": store.url}
    if zendesk is not None:
        values.update(zendesk_api_url=zendesk.url, zendesk_email=EMAIL, zendesk_api_token=zendesk_token,
                      zendesk_webhook_secret="s")
    if freshdesk is not None:
        values.update(freshdesk_api_url=freshdesk.url, freshdesk_api_key=API_KEY, freshdesk_webhook_secret="s")
    values.update(more)
    return load_settings(values, env_file=None)
