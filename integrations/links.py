"""Links from a ticket row on the admin page to the ticket in its helpdesk's agent UI.

Built from the configured account names (ZENDESK_SUBDOMAIN, FRESHDESK_DOMAIN), never from the API URL: a test
or proxy API URL says nothing about where agents open tickets. Anything that is not a plain account name or a
digits-only ticket id gives no link rather than a link somewhere else.
"""
from __future__ import annotations

import re

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")  # one DNS label: the account's subdomain
_TICKET_ID = re.compile(r"[1-9][0-9]{0,19}")
_AGENT_UI = {
    "zendesk": ("zendesk_subdomain", ".zendesk.com", "https://{account}.zendesk.com/agent/tickets/{id}"),
    "freshdesk": ("freshdesk_domain", ".freshdesk.com", "https://{account}.freshdesk.com/a/tickets/{id}"),
}


def ticket_url(helpdesk: str, external_id: object, settings) -> str | None:
    """The agent UI URL of a ticket, or None: unknown helpdesk, account not configured, or an id that is not
    a ticket number."""
    known = _AGENT_UI.get(helpdesk)
    if known is None:
        return None
    setting, suffix, template = known
    account = account_name(getattr(settings, setting, None), suffix)
    ticket = str(external_id).strip() if external_id is not None else ""
    if account is None or not _TICKET_ID.fullmatch(ticket):
        return None
    return template.format(account=account, id=ticket)


def account_name(configured: object, suffix: str) -> str | None:
    """`acme` from `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/` (people paste all three)."""
    if not isinstance(configured, str):
        return None
    name = configured.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    name = name.removesuffix(suffix)
    return name if _LABEL.fullmatch(name) else None
