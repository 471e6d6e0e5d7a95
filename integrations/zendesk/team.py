"""Who is in a Zendesk group, who of them is online, and how many open tickets each has (`TeamReads`).

Raw GETs through zenpy's own session and base URL (so ZENDESK_API_URL, the circuit breaker, the team-read
budget and the error translation of `GuardedSession` all apply): zenpy has no Agent Availability API, and
its generic list parsing would turn an answer of the wrong shape into an empty list or a KeyError, where we
want an error that names the endpoint. Availability is the unified agent status (online or not); an account
without the Agent Availability API (404, 403) says nothing, so every active member counts (`available=None`).
"""
from __future__ import annotations

import os
from typing import Iterator
from urllib.parse import urlsplit

from zenpy import Zenpy

from integrations.errors import AuthFailed, NotFound, Rejected, Unavailable
from integrations.team import Member
from integrations.zendesk.errors import translated

HELPDESK = "zendesk"
PAGE_SIZE = 100  # cursor pages and show_many take at most 100
MAX_PAGES = 200  # a cursor that never ends is the helpdesk's bug, not a reason to loop forever
OPEN_QUERY = "type:ticket assignee:{agent_id} status<hold"  # new, open, pending (statuses sort new<open<pending<hold)
AGENT_ROLES = ("agent", "admin")
NO_AVAILABILITY_API = (403, 404)


class ZendeskTeam:
    def __init__(self, zenpy: Zenpy):
        api = zenpy.users
        self.session = api.session  # the GuardedSession build_zenpy handed zenpy
        scheme = os.environ.get("ZENPY_FORCE_SCHEME", api.protocol)  # as zenpy's own _build_url
        self.base_url = f"{scheme}://{api.base_url}/{api.api_prefix}"

    def members(self, group_id: str) -> list[Member]:
        path = f"/groups/{_id(group_id)}/memberships.json"
        user_ids = list(dict.fromkeys(
            _field(m, "user_id", path) for m in self._pages(path, "group_memberships", {"page[size]": PAGE_SIZE})))
        if not user_ids:
            return []
        users = self._users(user_ids)
        online = self._availability()
        members = []
        for user_id in user_ids:
            user = users.get(user_id)
            if user is None:  # deleted since it joined the group
                members.append(Member(str(user_id), str(user_id), available=False, active=False))
                continue
            active = (user.get("active", True) is not False and not user.get("suspended")
                      and user.get("role", "agent") in AGENT_ROLES)
            members.append(Member(str(user_id), user.get("name") or str(user_id),
                                  available=None if online is None else online.get(user_id), active=active))
        return members

    def open_count(self, agent_id: str) -> int:
        path = "/search/count.json"
        body = self._get(path, {"query": OPEN_QUERY.format(agent_id=_id(agent_id))})
        count = body.get("count")
        if isinstance(count, dict):  # {"count": {"value": N, ...}} as the ticket count endpoints answer
            count = count.get("value")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _wrong(path, "no count")
        return count

    def _users(self, user_ids: list[int]) -> dict[int, dict]:
        path = "/users/show_many.json"
        users: dict[int, dict] = {}
        for start in range(0, len(user_ids), PAGE_SIZE):
            chunk = user_ids[start:start + PAGE_SIZE]
            body = self._get(path, {"ids": ",".join(map(str, chunk))})
            for user in _list(body, "users", path):
                users[_field(user, "id", path)] = user
        return users

    def _availability(self) -> dict[int, bool | None] | None:
        """Agent id -> online, from the Agent Availability API; None where the account lacks it."""
        path = "/agent_availabilities"
        online: dict[int, bool | None] = {}
        try:
            for item in self._pages(path, "data", {"page[size]": PAGE_SIZE}):
                attributes = item.get("attributes") if isinstance(item, dict) else None
                if not isinstance(attributes, dict):
                    raise _wrong(path, "an availability without attributes")
                status = attributes.get("agent_status")
                name = status.get("name") if isinstance(status, dict) else None
                online[_field(attributes, "agent_id", path)] = None if name is None else str(name).lower() == "online"
        except (NotFound, AuthFailed) as exc:
            if exc.status in NO_AVAILABILITY_API:
                return None
            raise
        return online

    def _pages(self, path: str, key: str, params: dict) -> Iterator[dict]:
        """Every item of a cursor-paginated list (`meta.has_more`, `links.next`)."""
        url: str | None = self.base_url + path
        for _ in range(MAX_PAGES):
            body = self._get_url(url, params)
            yield from _list(body, key, path)
            meta, links = body.get("meta") or {}, body.get("links") or {}
            more = isinstance(meta, dict) and isinstance(links, dict) and meta.get("has_more")
            url = links.get("next") if more else None
            if not url:
                return
            params = None  # the next link carries them
        raise _wrong(path, f"more than {MAX_PAGES} pages")

    def _get(self, path: str, params: dict | None = None) -> dict:
        return self._get_url(self.base_url + path, params)

    def _get_url(self, url: str, params: dict | None) -> dict:
        path = urlsplit(url).path
        with translated():
            response = self.session.get(url, params=params)
        try:
            body = response.json()
        except ValueError:
            raise Unavailable(HELPDESK, f"unreadable answer from GET {path} (not JSON)") from None
        if not isinstance(body, dict):
            raise _wrong(path, "not an object")
        return body


def _list(body: dict, key: str, path: str) -> list[dict]:
    items = body.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _wrong(path, f"no {key} list")
    return items


def _field(item: dict, key: str, path: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise _wrong(path, f"an item without {key}")
    return int(value)


def _id(value: str) -> int:
    """Ids go into URLs and search queries: digits only."""
    text = str(value).strip()
    if not text.isdigit():
        raise Rejected(HELPDESK, f"not a Zendesk id: {value!r}")
    return int(text)


def _wrong(path: str, what: str) -> Unavailable:
    return Unavailable(HELPDESK, f"unexpected answer from GET {_api_path(path)}: {what}")


def _api_path(path: str) -> str:
    return path if path.startswith("/api/") else f"/api/v2{path}"
