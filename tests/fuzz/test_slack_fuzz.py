"""`POST /slack/events` with Slack configured (fake Web API, PostgreSQL store), to anyone on the internet.

Junk timestamps and signatures get 401; signed junk bodies get 200, 400 or 404; never a 5xx. Like every
endpoint's refusals, a 4xx carries the JSON error body (issue 12's rule; `assert_answer_shape` checks it on
its own line, so a wrong status and a wrong body shape are reported as separate failures).
"""
from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode

from hypothesis import given, strategies as st

from fake_slack import REVIEW_CHANNEL, TEAM
from fuzz_payloads import Deep, Payload, hostile_short_text, hostile_text, json_any, wrong_type
from fuzz_support import assert_answer_shape, fuzz_settings
from slack_interactions import SIGNING_SECRET, signed_headers

SLACK_TOLERANCE_SECONDS = 300


def plausible_slack_time(stamp: str) -> bool:
    """Could bolt accept this as the request time (whole seconds within the tolerance of now)?"""
    try:
        return abs(time.time() - int(stamp)) <= SLACK_TOLERANCE_SECONDS + 5
    except (ValueError, OverflowError):
        return False


header_text = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
    st.sampled_from(["", " ", "abc", "1e9", "1.5", "-1", "0", "0x10", "9" * 30, "NaN", "١٢٣", " 12", "12 "]),
    st.integers(-10**12, 10**12).map(str),
)
form = "payload=" + quote(json.dumps({"type": "block_actions", "actions": []}))


@fuzz_settings(60)
@given(timestamp=header_text, signature=st.one_of(st.none(), header_text,
                                                  st.text("0123456789abcdef", min_size=64, max_size=64).map(
                                                      lambda h: "v0=" + h)))
def test_junk_timestamps_and_signatures_get_401(slack_client, timestamp, signature):
    """`signature` None: the right HMAC over the junk timestamp, so the timestamp alone is wrong."""
    headers = signed_headers(form, timestamp=0)
    headers["X-Slack-Request-Timestamp"] = timestamp
    if signature is None:
        from slack_sdk.signature import SignatureVerifier

        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=form)
        if plausible_slack_time(timestamp):
            return  # a valid request, not what this test is about
    headers["X-Slack-Signature"] = signature
    response = slack_client.post("/slack/events", data=form, headers=headers)
    assert_answer_shape(response, {401})


def block_actions(draw) -> dict:
    """A click shaped like Slack's, every field possibly hostile (ids, block id, user, message)."""
    value = lambda good: draw(st.one_of(st.just(good), hostile_text, wrong_type))  # noqa: E731
    action = {"type": value("button"), "action_id": value(draw(st.sampled_from(
        ["triage_route_1", "triage_route_menu", "triage_leave", "triage_route_"]))),
        "block_id": value("triage_review:zendesk:" + draw(st.one_of(st.just("42"), hostile_short_text))),
        "value": value("REFUNDS"), "selected_option": value({"value": "ORDER"})}
    return {"type": "block_actions", "team": value({"id": TEAM}), "user": value({"id": draw(st.one_of(
        st.just("U0ALICE"), hostile_text))}), "container": value({"message_ts": "1.2", "channel_id": REVIEW_CHANNEL}),
        "channel": value({"id": REVIEW_CHANNEL}), "message": value({"ts": "1.2", "blocks": []}),
        "actions": draw(st.one_of(st.just([action]), wrong_type, st.lists(json_any, max_size=2)))}


# bolt signs and reads the body as text: a raw body here is any text UTF-8 can carry (no lone surrogate)
raw_text = hostile_short_text.map(lambda text: text.encode("utf-8", "replace").decode("utf-8"))


@st.composite
def signed_bodies(draw) -> tuple[str, str]:
    """(content type, body): form payloads and JSON events with junk, all signed correctly."""
    kind = draw(st.sampled_from(["click", "form-junk", "form-raw", "json", "raw"]))
    if kind == "click":
        return "application/x-www-form-urlencoded", urlencode({"payload": Payload(block_actions(draw)).raw.decode()})
    if kind == "form-junk":
        inner = draw(st.one_of(json_any, wrong_type, st.sampled_from([Deep(1000), Deep(100_000)])))
        return "application/x-www-form-urlencoded", urlencode({"payload": Payload(inner).raw.decode()})
    if kind == "form-raw":
        text = draw(st.one_of(raw_text, st.sampled_from(["payload=", "payload=%ZZ", "payload=not-json",
                                                                    "payload=%7B", "a=b&payload=1&payload=2"])))
        return "application/x-www-form-urlencoded", text if "=" in text else "payload=" + quote(text, safe="")
    if kind == "json":
        body = draw(st.one_of(
            st.fixed_dictionaries({
                "type": st.one_of(st.sampled_from(["url_verification", "event_callback", "app_rate_limited",
                                                   "block_actions"]), hostile_short_text, wrong_type),
                "challenge": st.one_of(hostile_text, wrong_type), "event": st.one_of(json_any, wrong_type)}),
            json_any, wrong_type))
        return "application/json", Payload(body).raw.decode()
    return draw(st.sampled_from(["application/json", "text/plain", ""])), draw(raw_text)


@fuzz_settings(80)
@given(body=signed_bodies())
def test_signed_junk_bodies_get_200_400_or_404(slack_client, body):
    content_type, text = body
    headers = signed_headers(text)
    headers["Content-Type"] = content_type
    response = slack_client.post("/slack/events", data=text.encode(), headers=headers)
    assert_answer_shape(response, {200, 400, 404})
