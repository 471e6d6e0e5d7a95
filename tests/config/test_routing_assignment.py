"""The routing file's assignment keys: rules need a group, caps and working hours are checked at start-up."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from config.routing import AgentHours, AssignmentConfig, RoutingError, load_routing, parse_hours
from integrations.assignment import on_shift


def write(tmp_path, text: str):
    path = tmp_path / "routing.toml"
    path.write_text(text)
    return path


def test_assignment_keys_are_read(tmp_path):
    routing = load_routing(write(tmp_path, '[assignment]\nmax_open_per_agent = 10\n\n[assignment.agents."Ana Agent"]\n'
                                           'max_open = 4\ntime_zone = "Europe/Paris"\nhours = "09:00-17:30"\n'
                                           'days = ["Mon", "tuesday"]\n\n[categories.Billing]\n'
                                           'zendesk = { group = 100, assignee = "least_loaded" }\n'
                                           'freshdesk = { group = "Billing", assignee = "round_robin" }\n'))
    assert routing.route_for("Billing").zendesk.assignee_rule == "least_loaded"
    assert routing.route_for("Billing").freshdesk.assignee_rule == "round_robin"
    assert routing.assignment.cap_for("7001", "Ana Agent") == 4  # own cap, found by name
    assert routing.assignment.cap_for("7002", "Bo") == 10
    assert routing.assignment.settings_for("7001", "Ana Agent").days == ["mon", "tue"]


def test_no_assignment_section_means_no_cap(tmp_path):
    routing = load_routing(write(tmp_path, '[categories.B]\nzendesk = { group = 1, assignee = "least_loaded" }\n'))
    assert routing.assignment.cap_for("1", None) is None


def test_an_agent_id_is_not_mistaken_for_a_rule(tmp_path):
    routing = load_routing(write(tmp_path, '[categories.B]\nzendesk = { assignee = 7001 }\n'))
    assert routing.route_for("B").zendesk.assignee_rule is None


@pytest.mark.parametrize("text, where", [
    ('[categories.B]\nzendesk = { assignee = "least_loaded" }\n',
     ":2: categories.B.zendesk: Value error, assignee 'least_loaded' chooses among a group's members: set `group` too"),
    ('[assignment]\nmax_open_per_agent = -1\n',
     ":2: assignment.max_open_per_agent: Input should be greater than or equal to 0 (got -1)"),
    ('[assignment]\nmax_open = 3\n',
     ":2: assignment.max_open: unknown key (known: max_open_per_agent, agents)"),
    ('[assignment.agents.Ana]\nhours = "9 to 5"\n',
     ":2: assignment.agents.Ana.hours: Value error, hours must be HH:MM-HH:MM, e.g. 09:00-17:30 (got '9 to 5')"),
    ('[assignment.agents.Ana]\ntime_zone = "Mars/Olympus"\n',
     ":2: assignment.agents.Ana.time_zone: Value error, unknown time zone 'Mars/Olympus'"),
    ('[assignment.agents.Ana]\ndays = ["someday"]\n',
     ":2: assignment.agents.Ana.days: Value error, days are some of mon, tue, wed, thu, fri, sat, sun"),
    ('[assignment.agents.Ana]\nholiday = true\n',
     ":2: assignment.agents.Ana.holiday: unknown key (known: max_open, time_zone, hours, days)"),
])
def test_a_wrong_assignment_key_names_the_line_and_what_is_wrong(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}{where}")


@pytest.mark.parametrize("text, minutes", [("09:00-17:30", (540, 1050)), ("22:00-06:00", (1320, 360)),
                                           ("0:00-24:00", (0, 1440)), ("9:00-9:00", None), ("25:00-26:00", None),
                                           ("09:60-10:00", None), ("nine-five", None)])
def test_hours_are_parsed_or_refused(text, minutes):
    assert parse_hours(text) == minutes


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def test_working_hours_are_read_in_the_agents_time_zone():
    paris = AgentHours(time_zone="Europe/Paris", hours="09:00-17:00", days=["mon", "tue", "wed", "thu", "fri"])
    assert on_shift(paris, at("2026-12-07T08:30:00+00:00"))  # Monday 09:30 in Paris
    assert not on_shift(paris, at("2026-12-07T07:30:00+00:00"))  # 08:30 in Paris
    assert not on_shift(paris, at("2026-12-07T16:00:00+00:00"))  # 17:00 in Paris: the shift has ended
    assert not on_shift(paris, at("2026-12-05T10:00:00+00:00"))  # Saturday
    assert on_shift(AgentHours(), at("2026-12-05T03:00:00+00:00"))  # no hours: always


def test_a_night_shift_belongs_to_the_day_it_starts():
    night = AgentHours(hours="22:00-06:00", days=["fri"])
    assert on_shift(night, at("2026-12-04T23:00:00+00:00"))  # Friday 23:00
    assert on_shift(night, at("2026-12-05T05:00:00+00:00"))  # Saturday 05:00, still Friday's shift
    assert not on_shift(night, at("2026-12-05T23:00:00+00:00"))  # Saturday night: no shift
    assert not on_shift(night, at("2026-12-04T05:00:00+00:00"))  # Friday 05:00 is Thursday's shift


def test_days_without_hours_mean_all_day_on_those_days():
    weekdays = AgentHours(days=["mon"])
    assert on_shift(weekdays, at("2026-12-07T23:59:00+00:00"))
    assert not on_shift(weekdays, at("2026-12-08T00:01:00+00:00"))
    assert AssignmentConfig().settings_for("1", None) == AgentHours()
