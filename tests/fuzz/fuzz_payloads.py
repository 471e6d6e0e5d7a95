"""Hypothesis strategies for hostile helpdesk deliveries: the documented body shapes with bad field values.

A body is a `Payload`: the Python value we mean to send plus its bytes. Deeply nested values cannot go
through `json.dumps` (it recurses), so they travel as placeholder strings swapped for raw brackets.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st

ABSENT = object()  # a field left out of the body
NESTING = (900, 1000, 3000, 100_000)
HUGE_INTS = st.sampled_from([10**19, 10**20 - 1, 10**20, 2**63 - 1, 2**63, 2**64, 10**40, 10**400])


@dataclass(frozen=True)
class Deep:
    """A JSON array nested `depth` levels, written out only when the body is serialised."""

    depth: int


@dataclass(frozen=True)
class Payload:
    value: object

    @property
    def raw(self) -> bytes:
        deep: list[int] = []

        def default(item):
            if isinstance(item, Deep):
                deep.append(item.depth)
                return f"__deep_{len(deep) - 1}__"
            raise TypeError(type(item).__name__)

        text = json.dumps(self.value, default=default).encode()
        for index, depth in enumerate(deep):
            text = text.replace(f'"__deep_{index}__"'.encode(), b"[" * depth + b"]" * depth, 1)
        return text


# --- field values ---------------------------------------------------------------------------------

SPECIALS = ["\x00", "\ud800", "\udfff", "\udbff", "\ud83d", "\u202e", "\ufeff", "\uffff", "\U0010ffff", "\x7f",
            "\u0085", "\u2028", "\r\n", "\t", "٣", "²", "💥", "\u0301"]
hostile_char = st.one_of(st.characters(), st.sampled_from(SPECIALS))
hostile_short_text = st.lists(hostile_char, max_size=40).map("".join)
# a run of one "word" (no spaces), at and beyond every column limit, up to the 40,000-char stall
long_text = st.builds(lambda piece, length: (piece * (length // max(len(piece), 1) + 1))[:length],
                      st.sampled_from(["a", "1", "a.", "9 ", "x@", "é", "\x00", "\ud800", "ab1-", "+1 (555) "]),
                      st.sampled_from([33, 64, 65, 255, 256, 320, 321, 1000, 4000, 40_000]))
hostile_text = st.one_of(st.text(max_size=60), hostile_short_text, long_text)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), HUGE_INTS, HUGE_INTS.map(lambda n: -n),
                        st.floats(), hostile_short_text)
json_any = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    hostile_short_text, inner, max_size=4), max_leaves=12)
deep = st.sampled_from(NESTING).map(Deep)
wrong_type = st.one_of(st.none(), st.booleans(), st.integers(), HUGE_INTS, st.floats(allow_nan=False),
                       st.floats(), st.lists(json_any, max_size=3), st.dictionaries(hostile_short_text, json_any,
                                                                                    max_size=3), deep)
hostile_value = st.one_of(hostile_text, wrong_type)

ticket_ids = st.one_of(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=10**12).map(str),
    st.sampled_from(["035", " 42 ", "\t7\n", "0", "-1", "+5", "1e5", "1.0", "٣", "²", "0x1F", "1" * 20, "9" * 20,
                     "1" * 21, "", " ", "12\x0034", "12\ud80034", "zen:ticket:", "00000000000000000001"]),
    HUGE_INTS, HUGE_INTS.map(lambda n: -n), st.integers(max_value=0),
    st.floats(allow_nan=False), st.just(float("nan")), st.just(float("inf")),
    st.booleans(), st.none(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                   max_size=2),
    hostile_short_text, deep,
)
date_texts = st.one_of(
    st.sampled_from(["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59-23:59",
                     "0001-01-01T00:00:00+05:00", "0001-01-01", "2024-02-30T10:00:00Z", "2013-12-12T05:35Z",
                     "May 18, 2014", "Thu, 14 Mar, 2024 at 10:20 AM", "Fri, 31 Dec 9999 at 11:59 PM",
                     "+275760-09-13T00:00:00Z", "2024-03-14T24:00:00", "1970-01-01T00:00:00.000000001Z", ""]),
    st.datetimes().map(lambda d: d.isoformat()),
)
dates = st.one_of(date_texts, hostile_value)
tags = st.one_of(st.lists(hostile_value, max_size=5), hostile_text, st.lists(hostile_text, max_size=200), wrong_type)


valid_ticket_ids = st.one_of(st.integers(min_value=1, max_value=10**12), st.integers(1, 10**12).map(str),
                             st.sampled_from(["035", " 42 ", "\t7\n", "1" * 20, "00000000000000000001"]))
text_dates = st.one_of(date_texts, hostile_text)
text_tags = st.one_of(hostile_text, st.lists(hostile_text, max_size=30))


def maybe(good, hostile=hostile_value):
    """A field: usually hostile, sometimes its ordinary value, sometimes absent."""
    return st.one_of(hostile, good, st.just(ABSENT))


def field_kinds(draw) -> dict:
    """Half the bodies are hostile in text only (valid id, every field a string): those should mostly be
    accepted, so the "stored whole" half of the contract is exercised, not only the 400s."""
    if draw(st.booleans()):
        return {"ids": valid_ticket_ids, "value": hostile_text, "dates": text_dates, "tags": text_tags}
    return {"ids": ticket_ids, "value": hostile_value, "dates": dates, "tags": tags}


def build(shape: dict) -> dict:
    return {key: value for key, value in shape.items() if value is not ABSENT}


ORDINARY = {"subject": st.just("Charged twice for March invoice"), "description": st.just("Please refund me."),
            "requester": st.just("kim@example.com"), "organization": st.just("Acme Corp"), "channel": st.just("web")}


@st.composite
def zendesk_event_bodies(draw) -> tuple[Payload, object, object]:
    """(payload, the id a parser would read, the subject sent) in the event-subscription shape."""
    kinds = field_kinds(draw)
    ticket_id = draw(kinds["ids"])
    use_subject_id = draw(st.booleans())  # detail.id absent: the id comes from "subject": "zen:ticket:<id>"
    detail = build({
        "id": ABSENT if use_subject_id else ticket_id,
        "subject": draw(maybe(ORDINARY["subject"], kinds["value"])),
        "description": draw(maybe(ORDINARY["description"], kinds["value"])),
        "created_at": draw(st.one_of(kinds["dates"], st.just(ABSENT))),
        "organization_id": draw(maybe(st.just("8447346622462"), kinds["value"])),
        "tags": draw(st.one_of(kinds["tags"], st.just(ABSENT))),
        "via": draw(st.one_of(st.just(ABSENT), st.fixed_dictionaries({"channel": kinds["value"]}),
                              st.nothing() if kinds["value"] is hostile_text else wrong_type)),
        "requester_id": draw(maybe(st.just("8447388090494"), kinds["value"])),
    })
    subject = f"zen:ticket:{ticket_id}" if use_subject_id and isinstance(ticket_id, (int, str)) else draw(
        maybe(st.just("zen:ticket:5158")))
    body = build({"type": "zen:event-type:ticket.created", "id": draw(maybe(st.just("cbe4028c"))),
                  "time": draw(maybe(st.just("2025-01-08T10:12:07Z"))), "subject": subject,
                  "detail": detail if kinds["value"] is hostile_text else draw(
                      st.one_of(st.just(detail), st.just(detail), wrong_type))})
    raw_id = ticket_id if not use_subject_id else (ticket_id if isinstance(ticket_id, str) else
                                                   str(ticket_id) if isinstance(ticket_id, int) else None)
    if not isinstance(body.get("detail"), dict):
        raw_id = None
    sent_subject = detail.get("subject") if isinstance(body.get("detail"), dict) else None
    return Payload(body), raw_id, sent_subject


@st.composite
def flat_bodies(draw, names: dict[str, str]) -> tuple[dict, object, object]:
    """A flat created body under `names` (our field -> the body's key): trigger, custom or simple inner."""
    kinds = field_kinds(draw)
    ticket_id = draw(kinds["ids"])
    body = build({
        names["ticket_id"]: ticket_id,
        **{names[key]: draw(maybe(good, kinds["value"])) for key, good in ORDINARY.items()},
        names["tags"]: draw(st.one_of(kinds["tags"], st.just(ABSENT))),
        names["created_at"]: draw(st.one_of(kinds["dates"], st.just(ABSENT))),
    })
    event_key = names.get("event", "event")
    event = draw(st.one_of(st.just(ABSENT), st.just(ABSENT), st.sampled_from(
        ["ticket.created", " ticket.created ", "", "{ticket_action:created}", "{ ticket_action : created }"]),
        kinds["value"]))
    if event is not ABSENT:
        body[event_key] = event
    return body, ticket_id, body.get(names["subject"])


TRIGGER_NAMES = {"ticket_id": "ticket_id", "subject": "subject", "description": "description", "requester": "requester",
                 "organization": "organization", "channel": "channel", "tags": "tags", "created_at": "created_at"}
SIMPLE_NAMES = {"ticket_id": "ticket_id", "subject": "ticket_subject", "description": "ticket_description",
                "requester": "ticket_requester_email", "organization": "ticket_company_name",
                "channel": "ticket_source", "tags": "ticket_tags", "created_at": "ticket_created_at",
                "event": "triggered_event"}


@st.composite
def zendesk_trigger_bodies(draw):
    body, ticket_id, subject = draw(flat_bodies(TRIGGER_NAMES))
    return Payload(body), ticket_id, subject


@st.composite
def freshdesk_custom_bodies(draw):
    body, ticket_id, subject = draw(flat_bodies(TRIGGER_NAMES))
    return Payload(body), ticket_id, subject


@st.composite
def freshdesk_simple_bodies(draw):
    inner, ticket_id, subject = draw(flat_bodies(SIMPLE_NAMES))
    wrapper = draw(st.one_of(*[st.just(inner)] * 5, wrong_type))  # mostly the object, sometimes junk
    if not isinstance(wrapper, dict):
        ticket_id, subject = None, None
    return Payload({"freshdesk_webhook": wrapper}), ticket_id, subject


def bodies_for(helpdesk: str):
    if helpdesk == "zendesk":
        return st.one_of(zendesk_event_bodies(), zendesk_trigger_bodies())
    return st.one_of(freshdesk_simple_bodies(), freshdesk_custom_bodies())


@st.composite
def ticket_updated_bodies(draw, helpdesk: str) -> Payload:
    """An agent's re-routing of ticket 777: the ticket-updated body with hostile group, category and agent."""
    kinds = field_kinds(draw)
    body = build({
        "event": "ticket.updated",
        "ticket_id": draw(st.one_of(st.just("777"), st.just(777), st.just(" 0777 "), kinds["ids"], st.just(ABSENT))),
        "group": draw(maybe(st.sampled_from(["Billing", "360001", "REFUNDS"]), kinds["value"])),
        "category": draw(maybe(st.sampled_from(["REFUNDS", "ACCOUNT"]), kinds["value"])),
        "updated_by": draw(maybe(st.just("agent@example.com"), kinds["value"])),
        "ticket_category": draw(st.one_of(st.just(ABSENT), kinds["value"])),
    })
    if helpdesk == "freshdesk" and draw(st.booleans()):
        return Payload({"freshdesk_webhook": {**{k: v for k, v in body.items() if k != "event"},
                                              "triggered_event": "{status:{from:Open,to:Pending}}"}})
    return Payload(body)
