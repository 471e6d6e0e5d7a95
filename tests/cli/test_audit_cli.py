"""`triage audit`: the trail newest first, as lines for a person or JSON Lines (`--json`), with --limit, --actor,
--action and --since. Both stores."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cli.main import main
from store import audit
from store.types import utcnow


@pytest.fixture
def trail(store, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", store.url)
    now = utcnow().replace(microsecond=0)
    with store.session() as session:
        audit.record(session, "ana", audit.CORRECTION, "zendesk:108", {"review": "open", "category": "BILLING"},
                     {"review": "resolved", "category": "REFUND"}, at=now - timedelta(days=3))
        audit.record(session, "U0ALICE", audit.CORRECTION, "freshdesk:7", {"category": "ORDER"},
                     {"category": "SHIPPING"}, source=audit.SLACK, at=now - timedelta(hours=5))
        audit.record(session, "bo", audit.PROMOTE, "model:v2", {"current": "v1"}, {"current": "v2"},
                     at=now - timedelta(hours=1))
    return now


def test_text_lists_the_trail_newest_first(trail, capsys):
    assert main(["audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    day = lambda ago: (trail - ago).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    assert lines == [
        f"{day(timedelta(hours=1))}  bo  promote  model:v2  current: v1 → v2  (admin)",
        f"{day(timedelta(hours=5))}  U0ALICE  correction  freshdesk:7  category: ORDER → SHIPPING  (slack)",
        f"{day(timedelta(days=3))}  ana  correction  zendesk:108  review: open → resolved; category: BILLING → REFUND"
        "  (admin)",
    ]
    assert main(["audit", "--limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == lines[:1]
    assert main(["audit", "--actor", "ana"]) == 0
    assert capsys.readouterr().out.splitlines() == lines[2:]
    assert main(["audit", "--action", "correction", "--since", "1d"]) == 0
    assert capsys.readouterr().out.splitlines() == lines[1:2]
    assert main(["audit", "--actor", "nobody"]) == 0
    assert capsys.readouterr().out.strip() == "no audit entries match"


def test_json_prints_one_object_per_line(trail, capsys):
    assert main(["audit", "--json", "--action", "correction"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["actor"], r["target"], r["source"]) for r in rows] == [("U0ALICE", "freshdesk:7", "slack"),
                                                                       ("ana", "zendesk:108", "admin")]
    assert rows[1] == {"id": rows[1]["id"], "at": (trail - timedelta(days=3)).isoformat(), "actor": "ana",
                       "action": "correction", "target": "zendesk:108",
                       "before": {"review": "open", "category": "BILLING"},
                       "after": {"review": "resolved", "category": "REFUND"}, "source": "admin"}
    assert main(["audit", "--json", "--actor", "nobody"]) == 0
    assert capsys.readouterr().out == ""  # an empty trail: nothing, still valid JSON Lines


def test_bad_arguments_are_refused(trail, capsys):
    for argv in (["audit", "--action", "delete"], ["audit", "--limit", "0"], ["audit", "--since", "yesterday"]):
        with pytest.raises(SystemExit) as raised:
            main(argv)
        assert raised.value.code == 2
    assert "not 24h, 7d or a date" in capsys.readouterr().err


def test_promote_and_rollback_from_the_shell_are_in_the_trail(store, monkeypatch, tmp_path, capsys):
    import getpass

    from admin_seed import add_registry_version

    models = tmp_path / "models"
    add_registry_version(models, "v-one", {"accuracy": 0.8}, "2026-01-01T00:00:00")
    add_registry_version(models, "v-two", {"accuracy": 0.9}, "2026-02-01T00:00:00")
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(models))
    assert main(["models", "promote", "v-one"]) == 0
    assert main(["models", "promote", "v-two"]) == 0
    assert main(["models", "rollback"]) == 0
    capsys.readouterr()
    assert main(["audit", "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    who = f"cli:{getpass.getuser()}"
    assert [(e["actor"], e["action"], e["target"], e["before"], e["after"], e["source"]) for e in entries] == [
        (who, "rollback", "model:v-one", {"current": "v-two"}, {"current": "v-one"}, "cli"),
        (who, "promote", "model:v-two", {"current": "v-one"}, {"current": "v-two"}, "cli"),
        (who, "promote", "model:v-one", {"current": "starter"}, {"current": "v-one"}, "cli"),
    ]
