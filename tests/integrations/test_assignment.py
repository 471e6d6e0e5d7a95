"""Assignment by load through the real adapters' `apply` (zenpy, requests) against the fake Zendesk and Freshdesk,
on SQLite and PostgreSQL: who gets the tickets, caps, the waiting queue, agents away and back, a person's
assignment, two workers racing for the last slot, and the helpdesk failing while loads are read."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from config.routing import AssignmentConfig, CategoryRoute, HelpdeskRoute, RoutingConfig
from helpdesk_settings import helpdesk_settings
from integrations.errors import RateLimited, Unavailable
from integrations.registry import build_helpdesk
from integrations.route import Route, build_route
from store import assignments
from store.models import AgentLoad, Assignment
from store.types import utcnow
from webhooks.waiting import drain_waiting

CAP = 10
REFRESH = 60.0  # the default TRIAGE_ASSIGNMENT_REFRESH_SECONDS; time moves by the test's clock


@dataclass(frozen=True)
class Vendor:
    group: int
    agent_base: int  # agent ids are agent_base + 1, + 2, ...
    assignee: str  # the ticket's assignee field
    search: str  # where open tickets are counted
    members: str  # where the group's members are listed


VENDORS = {
    "zendesk": Vendor(100, 8000, "assignee_id", "/api/v2/search", "/api/v2/groups/100/memberships"),
    "freshdesk": Vendor(43000000100, 43000008000, "responder_id", "/api/v2/search/tickets",
                        "/api/v2/groups/43000000100"),
}


class Clock:
    """The assigners' time: a millisecond passes on every reading (so "who waited longest" is never a tie),
    and `advance` jumps past the refresh interval without sleeping."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Desk:
    """One helpdesk under test: its fake, adapters built by the registry, and the team's agents."""

    def __init__(self, key: str, fake, store):
        self.key, self.fake, self.store, self.vendor = key, fake, store, VENDORS[key]
        self.clock = Clock()
        self.agents: dict[str, int] = {}  # name -> id

    def adapter(self, cap: int | None = CAP, clock: Clock | None = None):
        # a read budget that a cold start (every member's count at once, in two workers) does not spend: the
        # budget's own waiting and deferring are tested in test_team_reads.py, not here
        settings = helpdesk_settings(self.store, **{self.key: self.fake}, triage_assignment_reads_per_minute=6000)
        adapter = build_helpdesk(self.key, settings, self.store, assignment=AssignmentConfig(max_open_per_agent=cap))
        adapter.assigner.clock = clock or self.clock
        return adapter

    def route(self, rule: str = "least_loaded", note: bool = False) -> Route:
        target = HelpdeskRoute(group=self.vendor.group, assignee=rule)
        routing = RoutingConfig(note=note, categories={"Refund": CategoryRoute(**{self.key: target})})
        return build_route("Refund", self.key, routing)

    def team(self, **open_tickets: int) -> None:
        for n, (name, count) in enumerate(open_tickets.items(), start=1):
            agent_id = self.vendor.agent_base + n
            self.fake.add_agent(agent_id, name.title(), [self.vendor.group], open_tickets=count)
            self.agents[name] = agent_id

    def name_of(self, agent_id) -> str | None:
        return None if agent_id is None else next(n for n, i in self.agents.items() if str(i) == str(agent_id))

    def assignee(self, ticket: int) -> str | None:
        return self.name_of(self.fake.tickets[ticket][self.vendor.assignee])

    def open_count(self, name: str) -> int:
        return self.fake.open_count(self.agents[name])

    def tickets(self, *ids: int) -> None:
        for ticket in ids:
            self.fake.add_ticket(ticket)

    def away(self, name: str, until: datetime) -> None:
        """An operator's mark on the admin page."""
        with self.store.session() as session:
            assignments.ensure_agents(session, self.key, [str(self.agents[name])])
        with self.store.session() as session:
            assert assignments.set_away(session, self.key, str(self.agents[name]), until, "ops@example.com")

    def waiting(self) -> list[int]:
        with self.store.session() as session:
            return [int(row.external_id) for row in assignments.waiting(session, self.key)]

    def state(self, ticket: int) -> str | None:
        with self.store.session() as session:
            return session.scalar(select(Assignment.state).where(Assignment.helpdesk == self.key,
                                                                 Assignment.external_id == str(ticket)))

    def counted_on_top(self) -> int:
        with self.store.session() as session:
            return sum(row.assigned_since or 0 for row in session.scalars(
                select(AgentLoad).where(AgentLoad.helpdesk == self.key)))


@pytest.fixture(params=["zendesk", "freshdesk"])
def desk(request, store):
    return Desk(request.param, request.getfixturevalue(f"fake_{request.param}"), store)


def chosen(desk: Desk, result: dict) -> str | None:
    return desk.name_of(result["assignment"]["agent"])


# the acceptance case


@pytest.mark.parametrize("how", ["helpdesk", "operator"])
@pytest.mark.parametrize("away", ["zero", "five", "nine"])
def test_twelve_tickets_go_to_the_available_agents_least_loaded_first_within_the_cap(desk, away, how):
    desk.team(nine=9, two=2, zero=0, five=5)
    if how == "helpdesk":
        desk.fake.set_available(desk.agents[away], False)
    else:
        desk.away(away, desk.clock.now + timedelta(hours=1))
    before = {name: desk.open_count(name) for name in desk.agents}
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(*range(1, 13))
    results = [adapter.apply(str(ticket), route) for ticket in range(1, 13)]
    here = [name for name in desk.agents if name != away]
    got = [chosen(desk, result) for result in results]
    assert all(name in here for name in got), got  # nobody waits, the away agent gets none
    assert [desk.assignee(ticket) for ticket in range(1, 13)] == got  # what was chosen is what was written
    after = {name: desk.open_count(name) for name in desk.agents}
    assert after[away] == before[away]
    least = min(here, key=before.get)
    assert got.count(least) == max(got.count(name) for name in here)  # the least loaded gets the most
    assert all(after[name] <= CAP for name in here)
    assert max(after[name] for name in here) - min(after[name] for name in here) <= 2
    assert sum(after[name] - before[name] for name in here) == 12


def test_round_robin_goes_around_by_who_waited_longest_and_skips_whoever_is_full(desk):
    desk.team(zero=0, five=5, nine=9)
    adapter, route = desk.adapter(), desk.route("round_robin")
    desk.tickets(*range(1, 8))
    got = [chosen(desk, adapter.apply(str(ticket), route)) for ticket in range(1, 8)]
    assert got == ["zero", "five", "nine", "zero", "five", "zero", "five"]  # nine reached the cap of 10
    assert (desk.open_count("zero"), desk.open_count("five"), desk.open_count("nine")) == (3, 8, 10)


# a full team: the waiting queue


def test_a_full_team_leaves_tickets_waiting_and_they_are_assigned_oldest_first_when_room_opens(desk):
    desk.team(nine=9, full=10)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(*range(1, 6))
    first = adapter.apply("1", route)
    assert chosen(desk, first) == "nine" and desk.open_count("nine") == CAP
    for ticket in range(2, 6):
        result = adapter.apply(str(ticket), route)
        assert result["assignment"]["waiting"] and "has room" in result["assignment"]["reason"]
        assert desk.fake.tickets[ticket]["group_id"] == desk.vendor.group  # the group is written ...
        assert desk.fake.tickets[ticket][desk.vendor.assignee] is None  # ... with no assignee
    assert desk.waiting() == [2, 3, 4, 5]

    reads = len(desk.fake.calls("GET"))
    assert drain_waiting(desk.store, {desk.key: adapter}) == 0  # still full: not a single call
    assert len(desk.fake.calls("GET")) == reads

    desk.fake.solve_for(desk.agents["full"], 2)  # two slots open up ...
    desk.fake.tickets[3][desk.vendor.assignee] = desk.agents["nine"]  # ... and someone takes ticket 3 by hand
    assert drain_waiting(desk.store, {desk.key: adapter}) == 0  # counts are trusted for the refresh interval
    desk.clock.advance(REFRESH + 1)
    assert drain_waiting(desk.store, {desk.key: adapter}) == 2
    assert [desk.assignee(ticket) for ticket in range(2, 6)] == ["full", "nine", "full", None]
    assert (desk.state(2), desk.state(3), desk.state(4), desk.state(5)) == ("assigned", "taken", "assigned", "waiting")
    assert desk.waiting() == [5]
    assert desk.open_count("full") == CAP


def test_an_agent_who_comes_back_gets_the_next_tickets(desk):
    desk.team(zero=0, three=3, four=4)
    desk.fake.set_available(desk.agents["zero"], False)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(*range(1, 7))
    assert [chosen(desk, adapter.apply(str(ticket), route)) for ticket in (1, 2)] == ["three", "four"]
    desk.fake.set_available(desk.agents["zero"], True)
    desk.clock.advance(REFRESH + 1)
    assert [chosen(desk, adapter.apply(str(ticket), route)) for ticket in (3, 4, 5, 6)] == ["zero"] * 4


def test_an_operator_away_mark_ends_when_it_says(desk):
    desk.team(zero=0, five=5)
    desk.away("zero", desk.clock.now + timedelta(minutes=5))
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1, 2)
    assert chosen(desk, adapter.apply("1", route)) == "five"
    desk.clock.advance(5 * 60)
    assert chosen(desk, adapter.apply("2", route)) == "zero"


# a person's assignment


def test_a_ticket_a_person_assigned_keeps_its_assignee_and_costs_no_slot(desk):
    desk.team(zero=0, nine=9)
    adapter, route = desk.adapter(), desk.route()
    desk.fake.add_ticket(1, **{desk.vendor.assignee: desk.agents["nine"]})
    result = adapter.apply("1", route)
    assert "assignment" not in result and desk.assignee(1) == "nine"
    for put in desk.fake.calls("PUT", "/api/v2/tickets/"):
        sent = put.body.get("ticket", put.body)
        assert desk.vendor.assignee not in sent and "group_id" not in sent
    assert desk.state(1) is None and desk.counted_on_top() == 0
    assert not desk.fake.calls("GET", desk.vendor.search)  # no load was even read


def test_zendesk_a_person_who_assigns_between_our_read_and_our_write_wins_and_the_slot_comes_back(store, fake_zendesk):
    desk = Desk("zendesk", fake_zendesk, store)
    desk.team(zero=0, one=1)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1, 2)
    fake_zendesk.agent_edits[1] = {"assignee_id": desk.agents["one"]}  # lands just before our PUT: a 409
    result = adapter.apply("1", route)
    assert desk.assignee(1) == "one" and "assignment" not in result
    assert desk.state(1) == "taken" and desk.counted_on_top() == 0
    assert chosen(desk, adapter.apply("2", route)) == "zero"  # zero has 0 open again, one has 2


# two workers, one slot


@pytest.mark.parametrize("rule", ["least_loaded", "round_robin"])
def test_two_workers_racing_for_the_last_slot_never_pass_the_cap(desk, monkeypatch, rule):
    """Both workers have read the helpdesk's counts before either claims. Inside the claim, a worker that
    has read the loads waits (a moment) for the other to have read them too: with the lock the other cannot
    read until the first has decided and written, so the wait runs out; without it both read the last slot."""
    desk.team(nine=9, full=10)
    workers = [desk.adapter(clock=Clock()), desk.adapter(clock=Clock())]
    route = desk.route(rule)
    desk.tickets(1, 2)

    both_read = threading.Barrier(2, timeout=30)
    inside = threading.Barrier(2, timeout=1.0)
    waited = threading.local()
    claim, load_of = assignments.claim, assignments.load_of

    def claim_after_both_read(*args, **kwargs):
        both_read.wait()
        return claim(*args, **kwargs)

    def load_once_both_read(row):  # the claim computes loads from the rows it read
        if not getattr(waited, "done", False):
            waited.done = True
            try:
                inside.wait()
            except threading.BrokenBarrierError:
                pass
        return load_of(row)

    monkeypatch.setattr(assignments, "claim", claim_after_both_read)
    monkeypatch.setattr(assignments, "load_of", load_once_both_read)
    results, errors = {}, []

    def work(adapter, ticket):
        try:
            results[ticket] = adapter.apply(str(ticket), route)
        except Exception as exc:  # asserted empty below
            errors.append(exc)
            both_read.abort()

    threads = [threading.Thread(target=work, args=(workers[n], n + 1)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    outcomes = sorted((chosen(desk, results[t]) or "waiting") for t in (1, 2))
    assert outcomes == ["nine", "waiting"]
    assert desk.open_count("nine") == CAP and desk.open_count("full") == CAP
    assert sorted(desk.assignee(t) or "-" for t in (1, 2)) == ["-", "nine"]
    assert len(desk.waiting()) == 1


# the helpdesk failing while loads are read


@pytest.mark.parametrize("where", ["search", "members"])
@pytest.mark.parametrize("status", [429, 503])
def test_a_helpdesk_error_while_loads_are_read_raises_and_records_nothing(desk, status, where):
    desk.team(zero=0, two=2)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1)
    desk.fake.fail(status, path_prefix=getattr(desk.vendor, where), retry_after="0" if status == 429 else None)
    with pytest.raises(RateLimited if status == 429 else Unavailable):
        adapter.apply("1", route)
    assert not desk.fake.calls("PUT", "/api/v2/tickets/")
    assert desk.state(1) is None and desk.counted_on_top() == 0 and desk.waiting() == []
    result = adapter.apply("1", route)  # the helpdesk answers again
    assert chosen(desk, result) == "zero" and desk.assignee(1) == "zero"
    assert desk.counted_on_top() == 1


def test_a_write_back_whose_load_read_hit_a_429_is_deferred_and_completes_later(desk):
    from routed_deliveries import make_due, routed_delivery, write_back_pipeline
    from store.models import DONE, ROUTED, Delivery

    desk.team(zero=0, two=2)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1)
    pipeline = write_back_pipeline(desk.store, {desk.key: adapter})
    delivery_id = routed_delivery(desk.store, desk.key, "1", route)
    desk.fake.fail(429, path_prefix=desk.vendor.search, retry_after="30")
    assert pipeline.process(delivery_id, "w1") == ROUTED
    with desk.store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.attempts == 0 and "RateLimited" in delivery.last_error
    assert desk.assignee(1) is None and desk.state(1) is None
    make_due(desk.store)
    assert pipeline.process(delivery_id, "w1") == DONE
    assert desk.assignee(1) == "zero" and desk.state(1) == "assigned"


def test_zendesk_without_the_availability_api_every_active_member_is_a_candidate(store, fake_zendesk):
    desk = Desk("zendesk", fake_zendesk, store)
    desk.team(zero=0, two=2, gone=0)
    fake_zendesk.availability_api = False  # the account lacks it: a 404
    fake_zendesk.set_available(desk.agents["zero"], False)  # (which then nobody can see)
    fake_zendesk.users = [dict(u, active=False) if u["id"] == desk.agents["gone"] else u for u in fake_zendesk.users]
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1, 2, 3)
    got = [chosen(desk, adapter.apply(str(ticket), route)) for ticket in (1, 2, 3)]
    assert got == ["zero", "zero", "two"]  # "gone" (deactivated, nothing open) gets none


# a waiting ticket the helpdesk refuses to assign (issue 21: nothing that failed is hidden)


def test_a_waiting_ticket_whose_assignment_is_refused_fails_after_three_tries_and_stops_holding_its_group(desk):
    desk.team(full=10)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1, 2)
    assert adapter.apply("1", route)["assignment"]["waiting"]
    desk.fake.solve_for(desk.agents["full"], 2)
    desk.clock.advance(REFRESH + 1)
    desk.fake.fail(422, count=assignments.MAX_FAILURES, method="PUT")
    assert drain_waiting(desk.store, {desk.key: adapter}) == 0
    with desk.store.session() as session:
        row = session.scalar(select(Assignment).where(Assignment.external_id == "1"))
        assert (row.state, row.failures, row.agent_id) == ("waiting", 1, None)
        assert row.last_error.startswith("Rejected")
    assert desk.counted_on_top() == 0  # the slot of the choice that never landed came back
    assert desk.waiting() == [1]
    for _ in range(assignments.MAX_FAILURES - 1):
        drain_waiting(desk.store, {desk.key: adapter})
    assert desk.state(1) == "failed" and desk.waiting() == []
    with desk.store.session() as session:
        assert desk.key not in assignments.waiting_summary(session)  # not counted as silently waiting
    puts = len(desk.fake.calls("PUT"))
    assert drain_waiting(desk.store, {desk.key: adapter}) == 0
    assert len(desk.fake.calls("PUT")) == puts  # the queue no longer retries it
    second = adapter.apply("2", route)  # a newer ticket in its group is not held behind it
    assert chosen(desk, second) == "full" and desk.assignee(2) == "full"
    assert desk.assignee(1) is None and desk.state(1) == "failed"


def test_a_refusal_then_a_written_assignment_clears_the_failure(desk):
    desk.team(full=10)
    adapter, route = desk.adapter(), desk.route()
    desk.tickets(1)
    adapter.apply("1", route)
    desk.fake.solve_for(desk.agents["full"], 1)
    desk.clock.advance(REFRESH + 1)
    desk.fake.fail(422, count=1, method="PUT")
    drain_waiting(desk.store, {desk.key: adapter})
    assert desk.state(1) == "waiting"
    assert drain_waiting(desk.store, {desk.key: adapter}) == 1
    with desk.store.session() as session:
        row = session.scalar(select(Assignment).where(Assignment.external_id == "1"))
        assert (row.state, row.failures, row.last_error) == ("assigned", 0, None)
    assert desk.assignee(1) == "full"
