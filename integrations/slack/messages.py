"""Block Kit for review messages: what the reviewer sees, and the ids the click handler reads back.

Ticket text is shown as `plain_text`, so nothing a customer writes can mention `@channel` or fake a link;
e-mail addresses and phone numbers are masked before the excerpt is cut, so a cut never reveals half of one.
The subject and body are cut to their caps (`classifier.limits`) before masking, at whole words.
Each pattern tries a long word from its first character only (a lookbehind), so masking is linear.
"""
from __future__ import annotations

import re

from classifier.limits import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, head_of_whole_words
from classifier.prediction import Prediction
from classifier.ticket import Ticket

EXCERPT_CHARS = 500
HEADER_CHARS = 150  # Block Kit's limit for a header's text
OPTION_TEXT_CHARS = 75  # Block Kit's limit for an option's text
MAX_OPTIONS = 100  # Block Kit's limit for a static select
TOP_K = 3

ACTION_ROUTE_PREFIX = "triage_route"  # triage_route_1..3 (buttons) and triage_route_menu (select)
ACTION_ROUTE_MENU = "triage_route_menu"
ACTION_LEAVE = "triage_leave"
BLOCK_PREFIX = "triage_review"  # actions block id: triage_review:<helpdesk>:<external id>
LEAVE_VALUE = "leave"
MAX_VALUE_CHARS = 150  # Block Kit's limit for an option's value
METADATA_EVENT = "triage_review"  # message metadata: finds a message whose ts we failed to record

_DOMAIN = r"[\w-]++(?:\.[\w-]++)++"
# From the start of a run of address characters only; possessive, so a failed try never backtracks. The
# tail catches an address glued on by "+" or "." ("a@b.com+c@d.org"), which the run start cannot see.
EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]++@{_DOMAIN}(?:[.+][\w.+-]*+@{_DOMAIN})*+")
# a leading +, or digit groups split by spaces, dots, dashes or brackets, or a bare run of 10+ digits
PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d\s().-]{5,}\d|\(?\d{2,5}\)?(?:[\s.-]\(?\d{2,5}\)?){1,4}|\d{10,15})(?!\w)")
DATE = re.compile(r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{4}")
MASKED_EMAIL, MASKED_PHONE = "[email]", "[phone]"


def mask(text: str) -> str:
    """E-mail addresses to `[email]`, phone-like numbers (7 to 15 digits, not dates) to `[phone]`."""
    if "@" in text:
        text = EMAIL.sub(MASKED_EMAIL, text)
    return PHONE.sub(_mask_phone, text)


def _mask_phone(match: re.Match) -> str:
    found = match.group()
    if DATE.fullmatch(found) or not 7 <= sum(c.isdigit() for c in found) <= 15:
        return found
    return MASKED_PHONE


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The body masked, whitespace collapsed, cut to at most `limit` characters (an ellipsis marks a cut)."""
    text = " ".join(mask(head_of_whole_words(body, MAX_BODY_CHARS)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_url(helpdesk: str, external_id: str, settings) -> str | None:
    """The agent's view of the ticket, or None when we do not know the helpdesk's address."""
    if helpdesk == "zendesk":
        base = settings.zendesk_api_url or _host(settings.zendesk_subdomain, "zendesk.com")
        return f"{base.rstrip('/')}/agent/tickets/{external_id}" if base else None
    if helpdesk == "freshdesk":
        base = settings.freshdesk_api_url or _host(settings.freshdesk_domain, "freshdesk.com")
        return f"{base.rstrip('/')}/a/tickets/{external_id}" if base else None
    return None


def _host(name: str | None, domain: str) -> str | None:
    if not name:
        return None
    return f"https://{name}" if "." in name else f"https://{name}.{domain}"


def escape(text: str) -> str:
    """Slack mrkdwn control characters (for the few places where ticket data meets mrkdwn)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def actions_block_id(helpdesk: str, external_id: str) -> str:
    """Names the ticket on the actions block, so every button and the menu carry it (block ids: 255 chars)."""
    return f"{BLOCK_PREFIX}:{helpdesk}:{external_id}"


def parse_block_id(block_id: str) -> tuple[str, str]:
    """(helpdesk, external id) from an actions block id; ValueError if the block is not one of ours."""
    prefix, _, rest = block_id.partition(":")
    helpdesk, _, external_id = rest.partition(":")
    if prefix != BLOCK_PREFIX or not helpdesk or not external_id:
        raise ValueError(f"not a triage review block: {block_id!r}")
    return helpdesk, external_id


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": False}


def _percent(p: float) -> str:
    return f"{p * 100:.0f}%"


def review_message(external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction,
                   settings) -> dict:
    """Arguments for `chat.postMessage` (without the channel): text, blocks and metadata."""
    subject = " ".join(mask(head_of_whole_words(ticket.subject, MAX_SUBJECT_CHARS)).split()) or "(no subject)"
    top = prediction.top_k(TOP_K)
    url = ticket_url(helpdesk, external_id, settings)
    name = f"{helpdesk.capitalize()} ticket #{escape(external_id)}"
    link = f"<{url}|{name}>" if url else name
    ranking = "   ".join(f"*{escape(c)}* {_percent(p)}" for c, p in top)
    words = escape(_cut(", ".join(prediction.explanation[:8]), 500)) or "none recorded"
    buttons = [
        {"type": "button", "action_id": f"{ACTION_ROUTE_PREFIX}_{i}", "text": _plain(c[:OPTION_TEXT_CHARS]),
         "value": c, **({"style": "primary"} if i == 1 else {})}
        for i, (c, _) in enumerate(top, start=1)
    ]
    options = [{"text": _plain(c[:OPTION_TEXT_CHARS]), "value": c}
               for c in sorted(prediction.probabilities) if len(c) <= MAX_VALUE_CHARS][:MAX_OPTIONS]
    menu = {"type": "static_select", "action_id": ACTION_ROUTE_MENU, "placeholder": _plain("Another category…"),
            "options": options}
    leave = {"type": "button", "action_id": ACTION_LEAVE, "text": _plain("Leave it to agents"),
             "value": LEAVE_VALUE}
    blocks = [
        {"type": "header", "text": _plain(_cut(subject, HEADER_CHARS))},
        {"type": "section", "text": _plain(excerpt(ticket.body) or "(no text)")},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{link}\nMost likely: {ranking}"}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"Words that drove it: {words} · model {escape(prediction.model_version)}"}]},
        {"type": "actions", "block_id": actions_block_id(helpdesk, external_id), "elements": [*buttons, menu, leave]},
    ]
    return {
        "text": f"Review {name}: {escape(_cut(subject, HEADER_CHARS))}",
        "blocks": blocks,
        "metadata": {"event_type": METADATA_EVENT,
                     "event_payload": {"helpdesk": helpdesk, "external_id": external_id}},
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def resolved_message(blocks: list[dict], text: str, outcome: str) -> dict:
    """Arguments for `chat.update`: the posted blocks without their buttons, plus who did what."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    kept.append({"type": "section", "text": {"type": "mrkdwn", "text": outcome}})
    return {"text": text, "blocks": kept}


def routed_outcome(user_id: str, category: str) -> str:
    return f":white_check_mark: <@{user_id}> routed this to *{escape(category)}*."


def left_outcome(user_id: str) -> str:
    return f":raising_hand: <@{user_id}> left this to the agents."


def assignment_outcome(assignment: dict | None) -> str | None:
    """Who got the ticket by a rule and why ("least loaded in Billing: 3 open of 10"), or that it waits."""
    if not assignment:
        return None
    reason = escape(str(assignment.get("reason") or ""))
    if assignment.get("waiting"):
        return f":hourglass_flowing_sand: Waiting for capacity: {reason}. Assigned as soon as someone has room."
    name = escape(str(assignment.get("agent_name") or assignment.get("agent")))
    return f":bust_in_silhouette: Assigned to *{name}*: {reason}."
