"""`triage routing check` against the fake Zendesk; the store token bucket; the circuit breaker; migrations."""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone

import pytest

from integrations.circuit import CircuitBreaker, CircuitOpen
from store.rate_budget import BudgetRule, StoreTokenBucket

ROUTING = """
[categories.REFUND]
tags = ["billing"]
zendesk = { group = "Billing", assignee = 7001, field = { id = 555, value = "refund" } }

[categories.SHIPPING]
zendesk = { group = 300, assignee = 1234, field = { id = 555, value = "parcels" } }

[categories.OTHER]
zendesk = { field = { name = "Priority", value = "x" } }
"""


def run_check(tmp_path, store, fake_zendesk, monkeypatch, capsys, *extra, routing_text: str = ROUTING):
    from cli import helpdesk_commands
    from fake_zendesk import EMAIL, TOKEN

    routing = tmp_path / "routing.toml"
    routing.write_text(routing_text)
    for name, value in {"DATABASE_URL": store.url, "ZENDESK_API_URL": fake_zendesk.url, "ZENDESK_EMAIL": EMAIL,
                        "ZENDESK_API_TOKEN": TOKEN, "ZENDESK_WEBHOOK_SECRET": "s",
                        "TRIAGE_ROUTING_FILE": str(routing)}.items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    helpdesk_commands.register(parser.add_subparsers())
    args = parser.parse_args(["routing", "check", *extra])
    return args.handler(args), capsys.readouterr()


def test_routing_check_lists_what_the_helpdesk_lacks(tmp_path, store, fake_zendesk, monkeypatch, capsys):
    code, out = run_check(tmp_path, store, fake_zendesk, monkeypatch, capsys, "--json")
    assert code == 1
    assert json.loads(out.out) == {"zendesk": [
        "categories.OTHER.zendesk.field: no ticket field 'Priority' in zendesk",
        "categories.SHIPPING.zendesk.group: no group 300 in zendesk",  # deleted in Zendesk
        "categories.SHIPPING.zendesk.assignee: no agent 1234 in zendesk",
        "categories.SHIPPING.zendesk.field.value: 'parcels' is not an option of field 'Category' (billing, refund)",
    ]}


def test_routing_check_passes_when_everything_exists(tmp_path, store, fake_zendesk, monkeypatch, capsys):
    fake_zendesk.groups[2]["deleted"] = False
    fake_zendesk.users.append({"id": 1234, "name": "New Agent", "role": "agent"})
    fake_zendesk.ticket_fields[0]["custom_field_options"].append({"name": "Parcels", "value": "parcels"})
    fake_zendesk.ticket_fields.append({"id": 557, "title": "Priority", "type": "text"})
    code, out = run_check(tmp_path, store, fake_zendesk, monkeypatch, capsys)
    assert code == 0 and out.out.strip() == "zendesk: routing file matches the helpdesk"


ASSIGNMENT_ROUTING = """
[assignment]
max_open_per_agent = 10
[assignment.agents."Ana Agent"]
max_open = 5
[assignment.agents."Nobody Here"]
max_open = 3

[categories.REFUND]
zendesk = { group = "Billing", assignee = "least_loaded" }

[categories.SHIPPING]
zendesk = { group = "Shipping", assignee = "round_robin" }
"""


def test_routing_check_checks_assignment_rules_against_the_live_groups_and_agents(
        tmp_path, store, fake_zendesk, monkeypatch, capsys):
    fake_zendesk.add_agent(7101, "Bo Billing", [100])  # Billing has an active member; Shipping has none
    fake_zendesk.add_agent(7102, "Cy Gone", [200], active=False)
    code, out = run_check(tmp_path, store, fake_zendesk, monkeypatch, capsys, "--json",
                          routing_text=ASSIGNMENT_ROUTING)
    assert code == 1
    assert json.loads(out.out) == {"zendesk": [
        "categories.SHIPPING.zendesk.assignee: round_robin has nobody to choose from: group 'Shipping' has no "
        "active members",
        "assignment.agents.Nobody Here: no agent 'Nobody Here' in zendesk",
    ]}  # the rules are not taken for agent names, and Ana Agent exists


def test_the_bucket_never_lets_more_than_the_limit_through_in_any_period(store):
    now = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    rule = BudgetRule("test:updates", limit=100, period=60.0)
    workers = [StoreTokenBucket(store, rule, clock=lambda: now[0]) for _ in range(3)]  # three processes
    granted = []
    for step in range(1200):  # 10 minutes in 0.5 s steps, every worker asking every step
        for bucket in workers:
            if bucket.take() == 0.0:
                granted.append(now[0])
        now[0] += timedelta(seconds=0.5)
    worst = max(sum(1 for t in granted if start <= t < start + timedelta(seconds=60)) for start in granted)
    assert worst <= 100 and len(granted) >= 900  # at the limit, and about 90 a minute sustained


def test_an_empty_bucket_says_how_long_to_wait(store):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    bucket = StoreTokenBucket(store, BudgetRule("test:slow", limit=2, period=60.0), clock=lambda: now)
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(60.0)  # burst 1, refill 1 a minute


def test_the_breaker_opens_after_repeated_failures_and_probes_before_closing():
    clock = [0.0]
    breaker = CircuitBreaker("zendesk", threshold=2, cooldown=10.0, clock=lambda: clock[0])
    probes = []
    breaker.record_failure()
    breaker.before_call(probes.append)  # still closed after one failure
    breaker.record_failure()
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call(lambda: probes.append("probe"))
    assert caught.value.retry_after == 10.0 and probes == []
    clock[0] = 11.0

    def failing_probe():
        raise ConnectionError("still down")

    with pytest.raises(CircuitOpen) as again:
        breaker.before_call(failing_probe)
    assert again.value.retry_after == 20.0 and breaker.state == "open"  # cooldown doubled
    clock[0] = 32.0
    breaker.before_call(lambda: probes.append("probe"))
    assert probes == ["probe"] and breaker.state == "closed"


def test_a_write_whose_budget_is_spent_is_deferred_before_any_read(store, fake_zendesk):
    """Deferring after the GET would spend the account's API calls on reads that lead nowhere."""
    from integrations.errors import RateLimited
    from integrations.route import Route
    from integrations.zendesk.adapter import ZendeskAdapter
    from helpdesk_settings import helpdesk_settings
    from integrations.zendesk.client import build_zenpy

    adapter = ZendeskAdapter(build_zenpy(helpdesk_settings(store, zendesk=fake_zendesk), store,
                                         updates_per_minute=10, period=600))
    fake_zendesk.add_ticket(1, subject="s", description="d")
    route = Route(category="Billing", tags=["triage_billing"])
    adapter.apply("1", route)  # the single burst token of a 10-per-600-s budget
    requests_before = len(fake_zendesk.requests)
    with pytest.raises(RateLimited) as caught:
        adapter.apply("1", route)
    assert caught.value.retry_after > 2
    assert len(fake_zendesk.requests) == requests_before
