"""The request id that follows a ticket: set by the webhook request, stored with the delivery, and bound
again by the worker that processes it, so one grep finds the intake, the classification and the write-back.

Libraries only bind and read it; `app.configure_logging` installs `RequestIdFilter`, which copies it onto
every log record that does not carry one already.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Iterator

_request_id: ContextVar[str | None] = ContextVar("triage_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token:
    return _request_id.set(request_id)


def unbind_request_id(token: Token) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    token = bind_request_id(request_id)
    try:
        yield
    finally:
        unbind_request_id(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = _request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True
