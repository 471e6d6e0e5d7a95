"""Assignment decided in the store, on SQLite and PostgreSQL: the rules, caps, away marks, the same ticket asked
again, slots given back, counts that add what triage assigned since they were read, and the waiting queue."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from integrations.team import Member
from store import assignments
from store.assignments import ASSIGNED, LEAST_LOADED, ROUND_ROBIN, TAKEN, WAITING, Candidate, pick
from store.models import AgentLoad, Assignment

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
HELPDESK, GROUP = "zendesk", "100"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def team(store, loads: dict[str, int | None], counted: datetime = T0, available: dict[str, bool] | None = None,
         helpdesk: str = HELPDESK) -> None:
    """The group's members as the helpdesk listed them, each with an open count read at `counted`."""
    members = [Member(agent_id, f"Agent {agent_id}", (available or {}).get(agent_id, True)) for agent_id in loads]
    with store.session() as session:
        assignments.record_members(session, helpdesk, GROUP, "Billing", members, counted)
    for agent_id, count in loads.items():
        if count is not None:
            with store.session() as session:
                assignments.record_count(session, helpdesk, agent_id, count, counted)


def claim(store, ticket: str, now: datetime, rule: str = LEAST_LOADED, eligible: list[str] | None = None,
          cap: int | None = 10, fresh: float = 60.0, helpdesk: str = HELPDESK) -> assignments.Claim:
    with store.session() as session:
        if eligible is None:
            eligible = [row.agent_id for row in session.scalars(select(AgentLoad).where(AgentLoad.helpdesk == helpdesk))]
        return assignments.claim(session, helpdesk=helpdesk, external_id=ticket, rule=rule, group_id=GROUP,
                                 group_name="Billing", category="Refund", route={"category": "Refund"},
                                 eligible=eligible, cap_of=lambda agent_id, name: cap, now=now, fresh_seconds=fresh)


def load(store, agent_id: str, helpdesk: str = HELPDESK) -> int:
    with store.session() as session:
        [row] = assignments.agents(session, helpdesk, [agent_id])
        return assignments.load_of(row)


def row_of(store, ticket: str) -> Assignment:
    with store.session() as session:
        return session.scalar(select(Assignment).where(Assignment.external_id == ticket))


# pick(): the rules, without a database


def test_least_loaded_takes_the_fewest_open_and_ties_go_to_who_waited_longest():
    a = Candidate("a", "A", load=3, cap=10, last_assigned_at=at(50))
    b = Candidate("b", "B", load=3, cap=10, last_assigned_at=at(10))
    c = Candidate("c", "C", load=4, cap=10, last_assigned_at=None)
    assert pick(LEAST_LOADED, [a, b, c]) == b
    never = Candidate("d", "D", load=3, cap=10, last_assigned_at=None)
    assert pick(LEAST_LOADED, [a, b, c, never]) == never  # never given one: waited longest of all
    assert pick(LEAST_LOADED, [c, Candidate("e", "E", load=1, cap=None, last_assigned_at=at(99))]).agent_id == "e"


def test_round_robin_takes_who_waited_longest_whatever_their_load():
    busy = Candidate("a", "A", load=8, cap=10, last_assigned_at=at(10))
    idle = Candidate("b", "B", load=0, cap=10, last_assigned_at=at(20))
    assert pick(ROUND_ROBIN, [idle, busy]) == busy


def test_nobody_at_or_over_their_cap_is_picked():
    full = Candidate("a", "A", load=10, cap=10, last_assigned_at=None)
    over = Candidate("b", "B", load=12, cap=10, last_assigned_at=None)
    room = Candidate("c", "C", load=9, cap=10, last_assigned_at=at(0))
    for rule in (LEAST_LOADED, ROUND_ROBIN):
        assert pick(rule, [full, over, room]) == room
        assert pick(rule, [full, over]) is None
    assert pick(LEAST_LOADED, [Candidate("z", "Z", load=0, cap=0, last_assigned_at=None)]) is None  # a cap of 0


# claim(): the locked decision


def test_claim_fills_the_least_loaded_first_and_never_passes_the_cap(store):
    team(store, {"a": 9, "b": 2, "c": 0})
    chosen = [claim(store, f"t{n}", at(1 + n)).agent_id for n in range(12)]
    assert chosen[:2] == ["c", "c"]  # 0 -> 2: now level with b
    assert chosen.count("a") <= 1 and chosen.count("c") >= chosen.count("b") >= chosen.count("a")
    assert [load(store, agent) for agent in "abc"] == [9 + chosen.count("a"), 2 + chosen.count("b"),
                                                      chosen.count("c")]
    assert max(load(store, agent) for agent in "abc") <= 10
    assert max(load(store, a) for a in "abc") - min(load(store, a) for a in "abc") <= 2
    first = claim(store, "t12", at(100))  # a further ticket: the lightest one still has room
    assert first.agent_id is not None and first.load < 10


def test_a_full_team_makes_the_ticket_wait_with_a_reason(store):
    team(store, {"a": 9, "b": 10})
    got = claim(store, "t1", at(1))
    assert (got.agent_id, got.load, got.cap) == ("a", 9, 10)
    assert "least loaded in Billing: 9 open of 10" == got.reason
    waits = claim(store, "t2", at(2))
    assert waits.agent_id is None and waits.reason == "nobody in Billing has room: 2 available, all at their cap of 10"
    assert (row_of(store, "t2").state, row_of(store, "t2").waiting_since) == (WAITING, at(2))
    assert load(store, "a") == 10 and load(store, "b") == 10


def test_round_robin_goes_around_by_who_waited_longest_below_the_cap(store):
    team(store, {"a": 0, "b": 5, "c": 9})
    chosen = [claim(store, f"t{n}", at(1 + n), rule=ROUND_ROBIN).agent_id for n in range(7)]
    assert chosen[:3] == ["a", "b", "c"]  # none was ever given one: then the load decides the order
    assert chosen[3:] == ["a", "b", "a", "b"]  # c reached its cap of 10
    assert load(store, "c") == 10


def test_unavailable_inactive_uncounted_and_ineligible_agents_are_not_candidates(store):
    team(store, {"a": 0, "b": 0, "c": None, "d": 0, "e": 5}, available={"a": False})
    with store.session() as session:
        session.execute(AgentLoad.__table__.update().where(AgentLoad.agent_id == "b").values(active=False))
    assert claim(store, "t1", at(1), eligible=["a", "b", "c", "e"]).agent_id == "e"  # d is not eligible


def test_an_operator_away_mark_keeps_the_agent_out_until_it_ends(store):
    team(store, {"a": 0, "b": 5})
    with store.session() as session:
        assert assignments.set_away(session, HELPDESK, "a", at(3600), "ops@example.com")
        assert not assignments.set_away(session, HELPDESK, "nobody", at(3600), "ops@example.com")
    assert claim(store, "t1", at(1)).agent_id == "b"
    assert claim(store, "t2", at(3601)).agent_id == "a"  # the mark ran out
    with store.session() as session:
        assert assignments.set_away(session, HELPDESK, "b", at(7200), "ops")
    with store.session() as session:
        assert assignments.set_away(session, HELPDESK, "b", None, "ops")  # back now
        [row] = assignments.agents(session, HELPDESK, ["b"])
        assert (row.away_until, row.away_set_by) == (None, None)
    with store.session() as session:
        assignments.set_away(session, HELPDESK, "a", at(9999), "ops")
    assert claim(store, "t3", at(3602)).agent_id == "b"


def test_everyone_away_waits_saying_nobody_is_available(store):
    team(store, {"a": 0})
    with store.session() as session:
        assignments.set_away(session, HELPDESK, "a", at(60), "ops")
    waits = claim(store, "t1", at(1))
    assert waits.agent_id is None and waits.reason == "nobody in Billing is available"


def test_the_same_ticket_asked_again_gets_its_agent_and_is_counted_once(store):
    team(store, {"a": 1, "b": 1})
    first = claim(store, "t1", at(1))
    again = claim(store, "t1", at(5))  # a retry after a failed write: the other agent is now lighter
    assert (again.agent_id, again.again) == (first.agent_id, True)
    assert load(store, first.agent_id) == 2 and sum(load(store, a) for a in "ab") == 3


def test_the_same_ticket_asked_after_its_choice_went_stale_moves_its_slot(store):
    team(store, {"a": 1, "b": 1})
    first = claim(store, "t1", at(1), fresh=60)
    other = "b" if first.agent_id == "a" else "a"
    with store.session() as session:
        assignments.set_away(session, HELPDESK, first.agent_id, at(3600), "ops")  # the retry must go elsewhere
    moved = claim(store, "t1", at(10), fresh=60)
    assert (moved.agent_id, moved.again) == (other, False)
    assert (load(store, first.agent_id), load(store, other)) == (1, 2)  # the first agent's slot came back
    assert row_of(store, "t1").agent_id == other


def test_release_gives_the_slot_back_once(store):
    team(store, {"a": 3})
    claim(store, "t1", at(1))
    assert load(store, "a") == 4
    with store.session() as session:
        assert assignments.release(session, HELPDESK, "t1", TAKEN)
    assert load(store, "a") == 3 and row_of(store, "t1").state == TAKEN
    with store.session() as session:
        assert not assignments.release(session, HELPDESK, "t1", TAKEN)  # already given back
        assert not assignments.release(session, HELPDESK, "unknown", TAKEN)
    assert load(store, "a") == 3


def test_release_after_a_newer_count_leaves_the_count_alone(store):
    """A count read after our assignment already holds it (or not, if our write never landed): the slot was
    not counted on top, so there is nothing to give back."""
    team(store, {"a": 3})
    claim(store, "t1", at(1))
    with store.session() as session:
        assignments.record_count(session, HELPDESK, "a", 3, at(2))  # our write never reached the helpdesk
    with store.session() as session:
        assert assignments.release(session, HELPDESK, "t1", TAKEN)
    assert load(store, "a") == 3


def test_a_waiting_ticket_that_is_released_ends_its_wait(store):
    team(store, {"a": 10})
    claim(store, "t1", at(1))
    with store.session() as session:
        assert assignments.release(session, HELPDESK, "t1", TAKEN)
        assert assignments.waiting(session, HELPDESK) == []
    assert load(store, "a") == 10


def confirm(store, ticket: str, agent: str, now: datetime) -> None:
    with store.session() as session:
        assignments.confirm(session, HELPDESK, ticket, agent, now)


def test_record_count_adds_what_the_count_cannot_hold_yet(store):
    team(store, {"a": 2}, counted=T0)
    claim(store, "t1", at(10))
    confirm(store, "t1", "a", at(12))  # the helpdesk took t1 before the next read began
    claim(store, "t2", at(20))  # t2's write is still on its way
    with store.session() as session:  # a read that began after t1 landed: t1 is in it, t2 is not
        assignments.record_count(session, HELPDESK, "a", 3, at(15))
    assert load(store, "a") == 4
    with store.session() as session:  # an older read arriving late changes nothing
        assignments.record_count(session, HELPDESK, "a", 0, at(5))
    assert load(store, "a") == 4
    with store.session() as session:  # a read begun before t2 was even chosen, still unconfirmed: t2 on top
        assignments.record_count(session, HELPDESK, "a", 3, at(18))
    assert load(store, "a") == 4
    confirm(store, "t2", "a", at(25))
    with store.session() as session:  # a read after both landed: the helpdesk's count holds them
        assignments.record_count(session, HELPDESK, "a", 4, at(30))
    assert load(store, "a") == 4
    with store.session() as session:
        [row] = assignments.agents(session, HELPDESK, ["a"])
        assert (row.open_count, row.assigned_since, row.counted_at) == (4, 0, at(30))


def test_a_write_that_never_landed_stops_counting_after_a_while(store):
    team(store, {"a": 2}, counted=T0)
    claim(store, "t1", at(10))  # chosen, and its write never confirmed
    with store.session() as session:
        assignments.record_count(session, HELPDESK, "a", 2, at(60))
    assert load(store, "a") == 3  # it may be landing right now: counted on top
    with store.session() as session:
        assignments.record_count(session, HELPDESK, "a", 2, at(10 + assignments.UNCONFIRMED_SECONDS + 1))
    assert load(store, "a") == 2  # a retry of that write-back chooses again


def test_a_new_ticket_queues_behind_older_waiting_ones_even_when_a_slot_came_free(store):
    team(store, {"a": 10})
    assert claim(store, "old", at(1)).agent_id is None  # the team is full: old waits
    with store.session() as session:
        assignments.record_count(session, HELPDESK, "a", 9, at(2))  # a slot came free
    newer = claim(store, "new", at(3))
    assert newer.agent_id is None and "1 older ticket already waits" in newer.reason
    assert claim(store, "old", at(4)).agent_id == "a"  # the waiting queue gives it to the oldest
    with store.session() as session:
        assert [row.external_id for row in assignments.waiting(session, HELPDESK)] == ["new"]


def test_recount_soon_marks_the_count_stale(store):
    team(store, {"a": 2})
    claim(store, "t1", at(1))
    with store.session() as session:
        assignments.recount_soon(session, HELPDESK, external_id="t1")
        [row] = assignments.agents(session, HELPDESK, ["a"])
        assert row.counted_at is None
    with store.session() as session:  # so the next read is taken, whenever it began
        assignments.record_count(session, HELPDESK, "a", 1, at(0.5))
    assert load(store, "a") == 2  # the new count, plus t1 assigned after that read began


def test_waiting_lists_oldest_first_per_helpdesk_and_keeps_the_first_wait(store):
    team(store, {"a": 10})
    team(store, {"x": 10}, helpdesk="freshdesk")
    for ticket, seconds in (("t3", 30), ("t1", 10), ("t2", 20)):
        claim(store, ticket, at(seconds))
    claim(store, "f1", at(5), helpdesk="freshdesk")
    claim(store, "t1", at(40))  # still no room: t1 keeps its place in the queue
    with store.session() as session:
        assert [row.external_id for row in assignments.waiting(session, HELPDESK)] == ["t1", "t2", "t3"]
        assert [row.external_id for row in assignments.waiting(session)] == ["f1", "t1", "t2", "t3"]
        assert [row.external_id for row in assignments.waiting(session, HELPDESK, limit=2)] == ["t1", "t2"]
        assert assignments.waiting_summary(session) == {HELPDESK: (3, at(10)), "freshdesk": (1, at(5))}
    with store.session() as session:
        assignments.record_count(session, HELPDESK, "a", 9, at(50))
    got = claim(store, "t1", at(51))
    assert got.agent_id == "a" and row_of(store, "t1").state == ASSIGNED
    with store.session() as session:
        assert [row.external_id for row in assignments.waiting(session, HELPDESK)] == ["t2", "t3"]
        assert assignments.assigned_since(session, HELPDESK, at(0)) == {"a": 1}


@pytest.mark.parametrize("rule", [LEAST_LOADED, ROUND_ROBIN])
def test_an_agent_own_cap_overrides_the_team_cap(store, rule):
    team(store, {"a": 3, "b": 3})
    caps = {"a": 3}

    with store.session() as session:
        got = assignments.claim(session, helpdesk=HELPDESK, external_id="t1", rule=rule, group_id=GROUP,
                                group_name=None, category=None, route={}, eligible=["a", "b"],
                                cap_of=lambda agent_id, name: caps.get(agent_id, 10), now=at(1), fresh_seconds=60)
    assert got.agent_id == "b" and "3 open of 10" in got.reason
