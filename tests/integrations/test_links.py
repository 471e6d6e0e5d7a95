"""Links to a ticket in its helpdesk's agent UI, from the configured account names only."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from integrations.links import ticket_url


def settings(zendesk=None, freshdesk=None, **more):
    return SimpleNamespace(zendesk_subdomain=zendesk, freshdesk_domain=freshdesk, **more)


def test_each_helpdesk_links_to_its_agent_ui():
    configured = settings("acme", "acme-support")
    assert ticket_url("zendesk", "123", configured) == "https://acme.zendesk.com/agent/tickets/123"
    assert ticket_url("freshdesk", 45, configured) == "https://acme-support.freshdesk.com/a/tickets/45"


@pytest.mark.parametrize("written", ["acme", "ACME", "acme.zendesk.com", "https://acme.zendesk.com/", " acme "])
def test_an_account_pasted_as_a_host_or_url_still_links(written):
    assert ticket_url("zendesk", "7", settings(written)) == "https://acme.zendesk.com/agent/tickets/7"


def test_no_account_name_no_link_even_with_an_api_url():
    only_api = settings(zendesk_api_url="http://127.0.0.1:8080", freshdesk_api_url="http://127.0.0.1:8081")
    assert ticket_url("zendesk", "1", only_api) is None and ticket_url("freshdesk", "1", only_api) is None
    assert ticket_url("zendesk", "1", settings("", "")) is None


@pytest.mark.parametrize("account", ["evil.com/x", "acme.evil.com", "a b", "-acme", "acme-", "x" * 64, "a@b",
                                     "javascript:alert(1)"])
def test_an_account_that_is_not_one_dns_label_gives_no_link(account):
    assert ticket_url("zendesk", "1", settings(account)) is None
    assert ticket_url("freshdesk", "1", settings(freshdesk=account)) is None


@pytest.mark.parametrize("ticket", ["", "0", "-1", "12a", "1/../../admin", "1?x=2", "1#f", "１２", None, "1" * 21])
def test_an_id_that_is_not_a_ticket_number_gives_no_link(ticket):
    assert ticket_url("zendesk", ticket, settings("acme")) is None


def test_an_unknown_helpdesk_gives_no_link():
    assert ticket_url("jira", "1", settings("acme", "acme")) is None
