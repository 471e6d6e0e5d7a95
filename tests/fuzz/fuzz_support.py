"""What every fuzz test checks, and the hypothesis settings they share.

The contract (issue 12; design: "HTTP endpoints"): malformed input gets 400, 401, 404 or 413 with the JSON body
`{"error": ..., "detail": ...}`; what is accepted gets 202 (200 for an ignored event type or a
duplicate); never a 5xx. What was refused leaves no row; what was accepted is stored, ticket id intact.
"""
from __future__ import annotations

import logging
import os
import re
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis.control import currently_in_test_context
from sqlalchemy import delete, func, select

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from store.models import Base, Delivery, TicketRecord
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

EXPLORE_EXAMPLES = os.environ.get("TRIAGE_FUZZ_EXAMPLES")
API_KEY, ADMIN_TOKEN = "fuzz-predict-key", "fuzz-admin-token"  # the `api_app` fixture's
REFUSED = {400, 401, 404, 413}
ACCEPTED = {200, 202}
# An id we may assume is kept exactly as sent: a conservative subset of what any request-id rule allows.
PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
SAFE_STORED_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII, no space, at most the column

settings.register_profile(
    "triage-fuzz",
    deadline=None,
    derandomize=not EXPLORE_EXAMPLES,  # CI: the same examples on every run
    database=None if not EXPLORE_EXAMPLES else settings.default.database,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no slow "explain"
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile("triage-fuzz")
OUR_PREFIXES = ("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_", "DATABASE_URL", "REDIS_URL")  # tests/conftest.py's


@contextmanager
def clean_environment():
    """No setting leaks in from the shell while a module-scoped app reads its settings."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(OUR_PREFIXES) and not name.startswith("TRIAGE_TEST_") and name != "TRIAGE_DATASETS_DIR":
                patch.delenv(name)
        yield


def fuzz_settings(ci_examples: int) -> settings:
    """`ci_examples` in CI; `TRIAGE_FUZZ_EXAMPLES` (e.g. 2000) for a longer, random exploration."""
    return settings(FUZZ, max_examples=int(EXPLORE_EXAMPLES) if EXPLORE_EXAMPLES else ci_examples)


def empty_tables(store) -> None:
    """Delete every row (children first): cheap on the few rows one example leaves, unlike TRUNCATE."""
    with store.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def count(store, model) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def post_signed(client, helpdesk: str, body: bytes, headers: dict | None = None):
    """POST `body` to the helpdesk's receiver, signed as the helpdesk would (headers override)."""
    if helpdesk == "zendesk":
        signed = zendesk_signed_headers(ZENDESK_SECRET, body)
    else:
        signed = freshdesk_headers(FRESHDESK_SECRET)
    return client.post(f"/webhooks/{helpdesk}", data=body,
                       headers={"Content-Type": "application/json", **signed, **(headers or {})})


def post_predict(client, path: str, raw: bytes):
    return client.post(path, data=raw, headers={"Authorization": f"Bearer {API_KEY}",
                                                 "Content-Type": "application/json"})


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def describe(response) -> str:
    return f"{response.status_code} {response.get_data()[:300]!r}"


class ServerErrorRecorder(logging.Handler):
    """Keeps the last exception the app logged (`webhooks.http_errors` logs every unhandled one; bolt logs its own)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.last: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.last = record.exc_info[1]

    def take(self) -> BaseException | None:
        found, self.last = self.last, None
        return found


SERVER_ERRORS = ServerErrorRecorder()
REPO = Path(__file__).resolve().parents[2]
_ERROR_CLASSES: dict[str, type] = {}


class ServerError(AssertionError):
    """A 5xx. Subclassed per cause (exception type and our innermost frame), so that hypothesis reports
    each distinct server error on its own instead of shrinking every 5xx to the most common one."""


def server_error(response) -> AssertionError:
    exc = SERVER_ERRORS.take()
    if exc is None:
        return ServerError(f"server error, nothing logged: {describe(response)}")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(REPO))
              and "/.venv/" not in f.filename]
    where = f"{Path(frames[-1].filename).relative_to(REPO)}:{frames[-1].lineno}" if frames else "outside our code"
    cause = f"{type(exc).__name__} at {where}"
    cls = _ERROR_CLASSES.setdefault(cause, type(f"ServerError[{cause}]", (ServerError,), {}))
    return cls(f"{response.status_code} from {cause}: {str(exc)[:300]}")


def assert_answer_shape(response, allowed: set[int]) -> None:
    """Status in `allowed` (never 5xx); a 4xx carries the JSON error body."""
    if currently_in_test_context():
        event(f"status {response.status_code}")  # pytest --hypothesis-show-statistics shows the mix
    if response.status_code >= 500:
        raise server_error(response)
    SERVER_ERRORS.take()
    assert response.status_code in allowed, f"unexpected status: {describe(response)}"
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and body.get("error") and body.get("detail"), (
            f"a {response.status_code} without the JSON error body: {describe(response)}")


def assert_nothing_stored(store, response) -> None:
    deliveries, tickets = count(store, Delivery), count(store, TicketRecord)
    assert (deliveries, tickets) == (0, 0), (
        f"{deliveries} delivery and {tickets} ticket row(s) after a refused or ignored delivery: {describe(response)}")


def assert_delivery_outcome(store, helpdesk: str, response, expected_ticket_id: str | None = None,
                            sent_subject: object = None) -> None:
    """The webhook contract for one delivery into empty tables.

    `expected_ticket_id`: the normalised id we sent, when we can tell it ("035" -> "35"); a 202 must store
    exactly that. `sent_subject`: a subject with a letter or digit in it must not be stored empty.
    """
    assert_answer_shape(response, REFUSED | ACCEPTED)
    if response.status_code != 202:
        assert_nothing_stored(store, response)  # 4xx refused; 200 ignored, updates, never a delivery
        return
    answer = response.get_json()
    assert answer["status"] == "accepted" and answer["duplicate"] is False, describe(response)
    with store.session() as session:
        deliveries = list(session.scalars(select(Delivery)))
        tickets = list(session.scalars(select(TicketRecord)))
        assert (len(deliveries), len(tickets)) == (1, 1), (
            f"a 202 left {len(deliveries)} delivery and {len(tickets)} ticket row(s)")
        delivery, ticket = deliveries[0], tickets[0]
        assert delivery.id == answer["delivery_id"] and delivery.ticket_id == ticket.id
        assert ticket.helpdesk == delivery.helpdesk == helpdesk
        assert re.fullmatch(r"[1-9][0-9]*", ticket.external_id), f"stored ticket id {ticket.external_id!r}"
        if expected_ticket_id is not None:
            assert ticket.external_id == expected_ticket_id, (ticket.external_id, expected_ticket_id)
        assert delivery.idempotency_key == f"{helpdesk}:ticket.created:{ticket.external_id}"
        if isinstance(sent_subject, str) and any(c.isalnum() for c in sent_subject):
            assert ticket.subject, f"subject {sent_subject[:60]!r}... was sent, none stored"
        stored_id = delivery.request_id
    header_id = response.headers.get("X-Request-Id")
    assert stored_id and SAFE_STORED_REQUEST_ID.fullmatch(stored_id), f"stored request id {stored_id!r}"
    assert stored_id == header_id, (stored_id, header_id)


def normalised_ticket_id(value: object) -> str | None:
    """The id a parser must store for `value`, or None when `value` is no ticket id at all.

    Accepted: an int, or a string of ASCII digits (surrounding whitespace allowed), positive, at most 20 digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 < value < 10**20 else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]{1,20}", text) and int(text) > 0:
            return str(int(text))
    return None
