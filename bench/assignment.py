"""A simulated support day through the real assignment code: does a rule keep loads even, never pass the
cap, and how long do tickets wait for capacity when bursts come and people step away?

    python bench/assignment.py [--rule least_loaded|round_robin|both] [--seed 1] [--hours 8] [--rate 34]
                               [--bursts 4] [--solve-events] [--json]
                               [--database-url postgresql://postgres@127.0.0.1:5432/test]

`integrations.assignment.Assigner` and `store.assignments` decide on a real store (SQLite in a temp folder
unless `--database-url`); only the helpdesk is simulated: `BenchTeam` below stands in for it (it is no
product code) and answers `integrations.team.TeamReads` from its simulated tickets. Time is a virtual clock
(no sleeping; the same `--seed` gives the same day), passed to the Assigner as `clock=`, with the
production refresh of 60 s, so counts and members are re-read only when older than that.

The day: 8 agents in one group, cap 10, starting with 0-8 open tickets each; Poisson arrivals plus a few
bursts of 20-40 tickets within a minute; each agent works their own tickets one at a time, with their own
mean handling time (4 to 20 minutes, exponential). Mid-morning two agents become unavailable in the
helpdesk for 1-2 hours; they work their queue down meanwhile and take no new tickets, then come back.
A ticket triage assigns becomes the agent's open ticket in the simulated helpdesk at once.

A new ticket is given out by `Assigner.choose` (which records it as waiting when nobody has room). Every
simulated 10 s the waiting queue is drained as `webhooks.waiting.drain_waiting` does, minus the adapter:
waiting rows oldest first from `store.assignments.waiting`, per group `Assigner.has_room` first (a full
group is skipped for the round), then `Assigner.choose` again with the ticket's stored rule, group and
route, exactly what `adapter.apply` -> `settle_assignee` asks; a ticket still waiting marks its group full.

Figures: every 30 min the largest and smallest true open count among available agents and their spread;
how often any agent's true open count passed the cap (checked after every event; must be 0, the exit
status says so); waits for capacity (longest, median, p90, still waiting at the end); tickets that
overtook an older waiting one; how long tickets waited while someone truly had room (counts up to 60 s
old); tickets assigned per agent; helpdesk reads. `run(...)` returns them. `--solve-events` also delivers
each solve as the helpdesk's ticket event (`store.assignments.ticket_changed`, as `webhooks.receivers`
does), so the solver is counted again at the next chance instead of after the refresh interval.
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from config.routing import AssignmentConfig  # noqa: E402
from integrations.assignment import Assigner  # noqa: E402
from integrations.team import Member  # noqa: E402
from store import assignments  # noqa: E402
from store.database import Store  # noqa: E402

START = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday, 09:00
GROUP, GROUP_NAME = "500", "Support"
REFRESH_SECONDS = 60.0  # TRIAGE_ASSIGNMENT_REFRESH_SECONDS' default
DRAIN_SECONDS = 10.0  # webhooks.waiting.DRAIN_SECONDS
SAMPLE_SECONDS = 30 * 60


@dataclass
class Agent:
    agent_id: str
    name: str
    mean_minutes: float
    open: list[str] = field(default_factory=list)  # the helpdesk's open tickets, oldest first
    available: bool = True
    busy: bool = False  # a solve is scheduled
    assigned: int = 0  # by triage today
    solved: int = 0


class BenchTeam:
    """The simulated helpdesk's side of `integrations.team.TeamReads` (members with availability, open counts)."""

    def __init__(self, agents: list[Agent]):
        self.agents = {a.agent_id: a for a in agents}
        self.member_reads = self.count_reads = 0

    def members(self, group_id: str) -> list[Member]:
        self.member_reads += 1
        return [Member(a.agent_id, a.name, a.available) for a in self.agents.values()]

    def open_count(self, agent_id: str) -> int:
        self.count_reads += 1
        return len(self.agents[agent_id].open)


class Day:
    """The event loop: arrivals, solves, availability changes, drain rounds and samples on a virtual clock."""

    def __init__(self, store: Store, helpdesk: str, rule: str, seed: int, hours: float, agents: int, cap: int,
                 rate_per_hour: float, bursts: int, solve_events: bool = False):
        self.solve_events = solve_events
        self.rng = random.Random(seed)
        self.rule, self.cap, self.helpdesk = rule, cap, helpdesk
        self.end = hours * 3600
        self.now_s = 0.0
        means = [4 + 16 * i / max(agents - 1, 1) for i in range(agents)]
        self.rng.shuffle(means)
        self.agents = [Agent(f"{9000 + i}", f"agent{i + 1}", round(m, 1)) for i, m in enumerate(means)]
        self.team = BenchTeam(self.agents)
        self.assigner = Assigner(store, helpdesk, self.team, AssignmentConfig(max_open_per_agent=cap),
                                 REFRESH_SECONDS, clock=self.clock)
        self.store = store
        self.events: list = []
        self.seq = itertools.count()
        self.arrived_at: dict[str, float] = {}
        self.waiting: dict[str, float] = {}  # ticket -> arrival, while triage has it waiting
        self.waits: list[float] = []  # seconds from arrival to an agent, for tickets that waited
        self.direct = self.overtakes = self.violations = self.to_unavailable = self.out_of_order = 0
        self.hidden_room = 0.0  # seconds tickets waited while an available agent truly had room
        self.max_true = 0
        self.samples: list[dict] = []
        self.spread_area = 0.0
        self.last_t = 0.0
        self.timeline: list[str] = []
        self._plan(rate_per_hour, bursts)

    def clock(self) -> datetime:
        return START + timedelta(seconds=self.now_s)

    def at(self, t: float, kind: str, *payload) -> None:
        heapq.heappush(self.events, (t, next(self.seq), kind, payload))

    def _plan(self, rate_per_hour: float, bursts: int) -> None:
        rng, n = self.rng, 0
        for agent in self.agents:
            agent.open = [f"pre-{agent.agent_id}-{k}" for k in range(rng.randint(0, 8))]
            self._next_solve(agent)
        t = rng.expovariate(rate_per_hour / 3600)
        while t < self.end:
            n += 1
            self.at(t, "arrive", str(n))
            t += rng.expovariate(rate_per_hour / 3600)
        for _ in range(bursts):  # 20-40 tickets within a minute, anywhere in the day but its last half hour
            start = rng.uniform(0.25 * 3600, self.end - 1800)
            for _ in range(rng.randint(20, 40)):
                n += 1
                self.at(start + rng.uniform(0, 60), "arrive", str(n))
        away = rng.sample(self.agents, 2)  # mid-morning: 10:00-11:00 away, back 1-2 hours later
        for agent in away:
            leave = rng.uniform(3600, 7200)
            self.at(leave, "away", agent.agent_id)
            self.at(leave + rng.uniform(3600, 7200), "back", agent.agent_id)
        t = DRAIN_SECONDS
        while t <= self.end:
            self.at(t, "drain")
            t += DRAIN_SECONDS
        t = 0.0
        while t <= self.end:
            self.at(t, "sample")
            t += SAMPLE_SECONDS

    def _next_solve(self, agent: Agent) -> None:
        agent.busy = bool(agent.open)
        if agent.busy:
            self.at(self.now_s + self.rng.expovariate(1 / (agent.mean_minutes * 60)), "solve", agent.agent_id)

    def _give(self, ticket: str, choice) -> None:
        """The simulated helpdesk takes the assignee at once; the adapter confirms it as after a real write."""
        agent = self.team.agents[choice.agent_id]
        self.assigner.confirm(ticket, choice)
        agent.open.append(ticket)
        agent.assigned += 1
        if not agent.available:  # the member list is read at most every refresh interval: expected, briefly
            self.to_unavailable += 1
        if not agent.busy:
            self._next_solve(agent)

    def run(self) -> None:
        while self.events and self.events[0][0] <= self.end:
            t, _, kind, payload = heapq.heappop(self.events)
            self._spread_until(t)
            self.now_s = t
            getattr(self, f"_on_{kind}")(*payload)
            self._check()
        self._spread_until(self.end)

    def _on_arrive(self, ticket: str) -> None:
        self.arrived_at[ticket] = self.now_s
        choice = self.assigner.choose(ticket, self.rule, GROUP, GROUP_NAME, "REFUND",
                                      {"category": "REFUND", "group": GROUP, "assignee": self.rule})
        if choice.waiting:
            self.waiting[ticket] = self.now_s
            return
        self.direct += 1
        if self.waiting:  # a newer ticket took a slot while older ones waited for one
            self.overtakes += 1
        self._give(ticket, choice)

    def _on_drain(self) -> None:
        """webhooks.waiting.drain_waiting's order, with `Assigner.choose` where it calls `adapter.apply`."""
        with self.store.session() as session:
            rows = [(row.external_id, row.rule, row.group_id, row.group_name, row.category, row.route)
                    for row in assignments.waiting(session, self.helpdesk, 100)]
        full: set[str] = set()
        for ticket, rule, group_id, group_name, category, route in rows:
            if group_id in full:
                continue
            if not self.assigner.has_room(group_id, group_name):
                full.add(group_id)
                continue
            choice = self.assigner.choose(ticket, rule, group_id, group_name, category, route)
            if choice.agent_id:
                if self.waiting[ticket] > min(self.waiting.values()):
                    self.out_of_order += 1  # an older waiting ticket was passed over
                self.waits.append(self.now_s - self.waiting.pop(ticket))
                self._give(ticket, choice)
            else:
                full.add(group_id)

    def _on_solve(self, agent_id: str) -> None:
        agent = self.team.agents[agent_id]
        ticket = agent.open.pop(0)
        agent.solved += 1
        if self.solve_events:  # the helpdesk's "ticket solved" webhook, as webhooks/receivers.py records it
            with self.store.session() as session:
                assignments.ticket_changed(session, self.helpdesk, ticket, "solved", agent_id)
        self._next_solve(agent)

    def _on_away(self, agent_id: str) -> None:
        self.team.agents[agent_id].available = False
        self.timeline.append(f"{self._hhmm()} {self.team.agents[agent_id].name} unavailable "
                             f"({len(self.team.agents[agent_id].open)} open)")

    def _on_back(self, agent_id: str) -> None:
        self.team.agents[agent_id].available = True
        self.timeline.append(f"{self._hhmm()} {self.team.agents[agent_id].name} available again "
                             f"({len(self.team.agents[agent_id].open)} open)")

    def _on_sample(self) -> None:
        counts = [len(a.open) for a in self.agents if a.available]
        self.samples.append({"time": self._hhmm(), "available": len(counts), "max": max(counts), "min": min(counts),
                             "spread": max(counts) - min(counts), "waiting": len(self.waiting),
                             "open": {a.name: len(a.open) for a in self.agents}})

    def _check(self) -> None:
        worst = max(len(a.open) for a in self.agents)
        self.max_true = max(self.max_true, worst)
        if worst > self.cap:
            self.violations += 1

    def _spread_until(self, t: float) -> None:
        counts = [len(a.open) for a in self.agents if a.available]
        if counts:
            self.spread_area += (max(counts) - min(counts)) * (t - self.last_t)
            if self.waiting and min(counts) < self.cap:
                self.hidden_room += t - self.last_t
        self.last_t = t

    def _hhmm(self) -> str:
        return self.clock().strftime("%H:%M")

    def figures(self, seconds: float) -> dict:
        still = sorted(self.end - since for since in self.waiting.values())
        waits = sorted(self.waits)
        return {
            "rule": self.rule, "solve_events": self.solve_events, "cap": self.cap, "tickets": len(self.arrived_at),
            "assigned_on_arrival": self.direct, "waited_then_assigned": len(waits),
            "still_waiting_at_end": len(still), "oldest_still_waiting_s": round(still[-1]) if still else 0,
            "wait_longest_s": round(waits[-1]) if waits else 0,
            "wait_median_s": round(statistics.median(waits)) if waits else 0,
            "wait_p90_s": round(waits[int(0.9 * (len(waits) - 1))]) if waits else 0,
            "overtook_a_waiting_ticket": self.overtakes, "queue_out_of_order": self.out_of_order,
            "assigned_while_unavailable": self.to_unavailable,
            "waiting_while_someone_had_room_s": round(self.hidden_room),
            "cap_exceeded_events": self.violations, "max_true_open": self.max_true,
            "spread_time_avg": round(self.spread_area / self.end, 2),
            "spread_max_sampled": max(s["spread"] for s in self.samples),
            "assigned_per_agent": {a.name: a.assigned for a in self.agents},
            "solved_per_agent": {a.name: a.solved for a in self.agents},
            "mean_minutes_per_agent": {a.name: a.mean_minutes for a in self.agents},
            "helpdesk_reads": {"members": self.team.member_reads, "open_count": self.team.count_reads},
            "timeline": self.timeline, "samples": self.samples, "wall_seconds": round(seconds, 1),
        }


def run(rule: str = "least_loaded", seed: int = 1, hours: float = 8.0, agents: int = 8, cap: int = 10,
        rate_per_hour: float = 34.0, bursts: int = 4, database_url: str | None = None,
        solve_events: bool = False) -> dict:
    """One simulated day on a fresh store (or, with `database_url`, under a helpdesk key of its own)."""
    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='triage-assign-')) / 'bench.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    store = Store(url)
    store.upgrade()
    helpdesk = f"bench-{uuid.uuid4().hex[:8]}"
    day = Day(store, helpdesk, rule, seed, hours, agents, cap, rate_per_hour, bursts, solve_events)
    started = time.monotonic()
    try:
        day.run()
    finally:
        if database_url:
            _forget(store, helpdesk)
    return day.figures(time.monotonic() - started)


def _forget(store: Store, helpdesk: str) -> None:
    """A shared database keeps none of this run's rows."""
    from sqlalchemy import delete

    from store.models import AgentLoad, Assignment, TeamGroup

    with store.session() as session:
        for model in (Assignment, AgentLoad, TeamGroup):
            session.execute(delete(model).where(model.helpdesk == helpdesk))


def print_table(figures: dict) -> None:
    f = figures
    events = ", solve events recount" if f["solve_events"] else ""
    print(f"\nrule {f['rule']}{events}, cap {f['cap']}: {f['tickets']} tickets, wall {f['wall_seconds']} s")
    for line in f["timeline"]:
        print(f"  {line}")
    print(f"  {'time':>5} {'avail':>5} {'max':>4} {'min':>4} {'spread':>6} {'waiting':>7}   open per agent")
    for s in f["samples"]:
        print(f"  {s['time']:>5} {s['available']:>5} {s['max']:>4} {s['min']:>4} {s['spread']:>6} {s['waiting']:>7}   "
              + " ".join(f"{n:>2}" for n in s["open"].values()))
    print(f"  cap exceeded: {f['cap_exceeded_events']} times (largest true open count {f['max_true_open']})")
    print(f"  spread among available agents: time average {f['spread_time_avg']}, largest sampled "
          f"{f['spread_max_sampled']}")
    print(f"  assigned on arrival {f['assigned_on_arrival']}, waited then assigned {f['waited_then_assigned']}, "
          f"still waiting at end {f['still_waiting_at_end']} (oldest {f['oldest_still_waiting_s']} s)")
    print(f"  wait for capacity: longest {f['wait_longest_s']} s, median {f['wait_median_s']} s, "
          f"p90 {f['wait_p90_s']} s; new tickets that overtook a waiting one: {f['overtook_a_waiting_ticket']}, "
          f"queue served out of order: {f['queue_out_of_order']}")
    print(f"  tickets waited while an available agent truly had room: {f['waiting_while_someone_had_room_s']} s "
          f"of the day (counts are up to {REFRESH_SECONDS:g} s old); assigned to an agent the helpdesk already "
          f"showed unavailable: {f['assigned_while_unavailable']}")
    print(f"  {'agent':<8} {'mean min':>8} {'assigned':>8} {'solved':>6}")
    for name, assigned in f["assigned_per_agent"].items():
        print(f"  {name:<8} {f['mean_minutes_per_agent'][name]:>8} {assigned:>8} {f['solved_per_agent'][name]:>6}")
    print(f"  helpdesk reads: {f['helpdesk_reads']['members']} member lists, "
          f"{f['helpdesk_reads']['open_count']} open counts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rule", choices=["least_loaded", "round_robin", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--cap", type=int, default=10)
    parser.add_argument("--rate", type=float, default=34.0, help="quiet arrivals per hour, besides the bursts")
    parser.add_argument("--bursts", type=int, default=4)
    parser.add_argument("--database-url", help="e.g. postgresql://postgres@127.0.0.1:5432/test (default: SQLite)")
    parser.add_argument("--solve-events", action="store_true",
                        help="each solve also arrives as a helpdesk event (store.assignments.ticket_changed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rules = ["least_loaded", "round_robin"] if args.rule == "both" else [args.rule]
    results = [run(rule, args.seed, args.hours, args.agents, args.cap, args.rate, args.bursts, args.database_url,
                   args.solve_events)
               for rule in rules]
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    else:
        for figures in results:
            print_table(figures)
    sys.exit(1 if any(f["cap_exceeded_events"] for f in results) else 0)


if __name__ == "__main__":
    main()
