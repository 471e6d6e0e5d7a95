"""The segments the accuracy cards group tickets by: language and customer tier.

Language: what the helpdesk sent, else what the model detected (stored on the ticket at classification;
older tickets have it only in their prediction's derived fields). Tier: from `TRIAGE_TIER_SOURCE`,
read when the page is drawn, never written on the ticket (the classifier reads the ticket's own `tier`,
and a value it never saw in training would change its predictions):
`organization` (default) the organization's name; `requester_domain` the requester's e-mail domain;
`tag:PREFIX` the first tag starting with PREFIX, without it (`tag:tier_` turns `tier_gold` into `gold`).
A ticket the source says nothing about keeps the tier the helpdesk sent, if any, else a key that says what it
lacks (`no organization`, `no requester domain`, `no tier_… tag`), not a tier called `unknown`.
"""
from __future__ import annotations

UNKNOWN = "unknown"
ORGANIZATION, REQUESTER_DOMAIN, TAG_PREFIX = "organization", "requester_domain", "tag:"
KEY_CHARS = 64  # a segment name shown on the page


def language_of(stored: str | None, derived: dict | None) -> str:
    detected = derived.get("language") if isinstance(derived, dict) else None
    return _key(stored or (detected if isinstance(detected, str) else None))


def tier_of(source: str, *, organization: str | None, requester: str | None, tags, stored: str | None) -> str:
    if source == ORGANIZATION:
        found = organization
    elif source == REQUESTER_DOMAIN:
        found = _domain(requester)
    elif source.startswith(TAG_PREFIX):
        found = _tag_value(tags, source[len(TAG_PREFIX):])
    else:
        found = None
    return _key(found or stored, missing(source))


def missing(source: str) -> str:
    """The tier key of a ticket the source says nothing about."""
    if source == REQUESTER_DOMAIN:
        return "no requester domain"
    if source.startswith(TAG_PREFIX):
        return f"no {source[len(TAG_PREFIX):]}… tag"
    return "no organization"


def describe(source: str) -> str:
    """For the card's title: where the tier comes from."""
    if source == REQUESTER_DOMAIN:
        return "requester's e-mail domain"
    if source.startswith(TAG_PREFIX):
        return f"ticket tag {source[len(TAG_PREFIX):]}…"
    return "organization"


def _domain(requester: str | None) -> str | None:
    if not requester or "@" not in requester:
        return None
    return requester.rsplit("@", 1)[1].strip().lower() or None


def _tag_value(tags, prefix: str) -> str | None:
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and tag.startswith(prefix) and len(tag) > len(prefix):
            return tag[len(prefix):]
    return None


def _key(value: str | None, empty: str = UNKNOWN) -> str:
    text = (value or "").strip()
    return text[:KEY_CHARS] if text else empty
