"""Zendesk errors -> ours. HTTP answers are already translated by `GuardedSession` (it sees every response
before zenpy does); what is left here is what zenpy raises on its own."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from integrations.errors import DEFAULT_RETRY_AFTER, HelpdeskError, RateLimited, Rejected, Unavailable, from_status

HELPDESK = "zendesk"


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except HelpdeskError:
        raise
    except RatelimitBudgetExceeded:  # zenpy would have slept on a 429; we configure it never to
        raise RateLimited(HELPDESK, "zenpy rate-limit budget spent", DEFAULT_RETRY_AFTER) from None
    except APIException as exc:
        response = getattr(exc, "response", None)
        if response is None:
            raise Rejected(HELPDESK, f"API error: {exc}") from None
        raise from_status(HELPDESK, response.status_code, str(exc), response.headers.get("Retry-After")) from None
    except ZenpyException as exc:
        raise Rejected(HELPDESK, f"zenpy: {exc}") from None
    except ValueError as exc:  # a 2xx answer that is not the JSON zenpy expects (a proxy's error page)
        raise Unavailable(HELPDESK, f"unreadable answer: {exc}") from None
