"""Settings and the routing file: mistakes stop start-up with one line each, naming the variable or the
file and line, all at once."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.routing import RoutingError, load_routing
from config.settings import Settings, SettingsError
from config.validation import load_settings
from config.validation import read_settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_ones():
    settings = load_settings(env_file=None)
    assert settings.database_url == f"sqlite:///{REPO / 'triage.db'}"
    assert settings.redis_url is None and settings.dry_run
    assert settings.triage_confidence_threshold is None and settings.triage_target_precision == 0.95


def test_path_defaults_are_in_the_project_wherever_triage_starts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env_file=None)
    assert settings.database_url == f"sqlite:///{REPO / 'triage.db'}"
    assert settings.triage_routing_file == REPO / "config" / "routing.toml"
    assert (settings.triage_model_dir, settings.triage_starter_model) == (REPO / "models", REPO / "models" / "starter")
    assert settings.triage_datasets_dir == REPO.parent / "shared" / "datasets"
    assert all(path.is_absolute() for path in (settings.triage_routing_file, settings.triage_model_dir))


def test_a_relative_path_that_is_set_is_read_from_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_ROUTING_FILE", "mine.toml")
    assert load_settings(env_file=None).triage_routing_file.resolve() == tmp_path / "mine.toml"


@pytest.mark.parametrize("env, first_word", [
    ({"TRIAGE_CONFIDENCE_THRESHOLD": "1.5"}, "TRIAGE_CONFIDENCE_THRESHOLD"),
    ({"TRIAGE_CONFIDENCE_THRESHOLD": "high"}, "TRIAGE_CONFIDENCE_THRESHOLD"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"TRIAGE_MAX_ATTEMPTS": "0"}, "TRIAGE_MAX_ATTEMPTS"),
    ({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "t"}, "ZENDESK_WEBHOOK_SECRET"),
    ({"FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": "k"}, "FRESHDESK_WEBHOOK_SECRET"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_REVIEW_CHANNEL": "C1"}, "SLACK_SIGNING_SECRET"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch, env, first_word):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert caught.value.problems == [message]
    assert message.split(":")[0] == first_word
    assert "\n" not in message


def test_every_bad_setting_is_reported_at_once(monkeypatch):
    for name, value in {"TRIAGE_CONFIDENCE_THRESHOLD": "2", "TRIAGE_WORKERS": "many", "TRIAGE_RETRAIN_CRON": "daily",
                        "FRESHDESK_DOMAIN": "acme", "SLACK_BOT_TOKEN": "xoxb-1",
                        "TRIAGE_TICKET_TIME_LIMIT_SECONDS": "90"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    named = [problem.split(":")[0] for problem in caught.value.problems]
    assert named == ["TRIAGE_CONFIDENCE_THRESHOLD", "TRIAGE_WORKERS", "TRIAGE_RETRAIN_CRON",
                     "TRIAGE_TICKET_TIME_LIMIT_SECONDS", "FRESHDESK_API_KEY", "FRESHDESK_WEBHOOK_SECRET",
                     "SLACK_SIGNING_SECRET", "SLACK_REVIEW_CHANNEL"]
    assert str(caught.value).splitlines() == caught.value.problems
    assert "(got '2')" in caught.value.problems[0] and "(got 'many')" in caught.value.problems[1]


def test_a_check_is_not_blamed_on_a_default_put_in_for_a_bad_value(monkeypatch):
    monkeypatch.setenv("TRIAGE_LEASE_SECONDS", "-5")  # bad: its default (60) stands in for the other checks
    monkeypatch.setenv("TRIAGE_TICKET_TIME_LIMIT_SECONDS", "70")  # would be longer than that default lease
    report = read_settings(env_file=None)
    assert [problem.split(":")[0] for problem in report.problems] == ["TRIAGE_LEASE_SECONDS"]
    assert report.settings is not None and "triage_lease_seconds" in report.bad


def test_a_secret_is_never_echoed_in_an_error(monkeypatch):
    monkeypatch.setenv("TRIAGE_API_KEYS", "k1")
    monkeypatch.setenv("DATABASE_URL", "mysql://user:hunter2@db/x")
    monkeypatch.setenv("TRIAGE_METRICS_PORT", "hunter3")
    monkeypatch.setenv("ZENDESK_API_URL", "http://u:hunter4@zd")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert "hunter2" not in str(caught.value) and "hunter4" not in str(caught.value)
    assert "(got 'hunter3')" in str(caught.value)  # not a secret: shown, so the mistake is plain


def test_lists_and_postgres_urls_are_read_as_meant(monkeypatch):
    monkeypatch.setenv("TRIAGE_API_KEYS", " k1, k2 ,,")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(env_file=None)
    assert settings.triage_api_keys == ["k1", "k2"]
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_the_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("TRIAGE_CONFIDENCE_THRESHOLD=0.9   # stricter\nREDIS_URL=redis://r:6379/0\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.triage_confidence_threshold, settings.redis_url) == (0.9, "redis://r:6379/0")


def test_the_example_env_file_documents_every_setting():
    example = (REPO / "config" / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert {name.upper() for name in Settings.model_fields} - documented == set()


def test_the_command_line_stops_with_one_line_per_problem(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TRIAGE_CONFIDENCE_THRESHOLD": "2", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], cwd=tmp_path, env={
        **env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[:2] == ["triage: configuration error: 1 problem",
                         "  TRIAGE_CONFIDENCE_THRESHOLD: Input should be less than or equal to 1 (got '2')"]
    assert len(lines) == 3 and "triage --debug db upgrade" in lines[2]


def test_the_shipped_routing_file_is_valid():
    routing = load_routing(REPO / "config" / "routing.toml")
    assert routing.route_for("FEEDBACK").always_review
    assert routing.route_for("never heard of it").threshold is None


@pytest.mark.parametrize("suffix, text, where", [
    (".toml", "[categories.Billing]\nthreshold = 1.5\n", ":2: categories.Billing.threshold: Input should be less "
                                                          "than or equal to 1 (got 1.5)"),
    (".toml", "[categories.Billing]\ntreshold = 0.5\n", ":2: categories.Billing.treshold: unknown key (known: tags, "
                                                         "threshold, always_review, zendesk, freshdesk)"),
    (".toml", "[categories.B]\nzendesk = { group = 1, field = { id = 5 } }\n", ":2: categories.B.zendesk.field.value: "
                                                                              "Field required"),
    (".yaml", "# map\nmode: sometimes\n",
     ":2: mode: Input should be 'threshold' or 'conformal' (got 'sometimes')"),
    (".yml", "categories:\n  B:\n    tags: [ok, 5]\n",
     ":3: categories.B.tags.1: Input should be a valid string (got 5)"),
    (".toml", "mode = 'threshold'\nthis is = = not toml", ":2: not valid TOML: Expected '=' after a key in a key/value "
                                                           "pair (column 6)"),
    (".yaml", "categories:\n  B: [1\n  C: 2\n", ":3: not valid YAML: expected ',' or ']', but got ':'"),
    (".toml", "[categories]\nB = 5\n", ":2: categories.B: Input should be a valid dictionary"),
])
def test_a_bad_routing_file_names_the_file_line_and_entry(tmp_path, suffix, text, where):
    path = tmp_path / f"routing{suffix}"
    path.write_text(text)
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert caught.value.problems == [str(caught.value)]
    assert str(caught.value).startswith(f"{path}{where}")


def test_every_mistake_in_the_routing_file_is_reported_at_once_in_line_order(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text('mode = "sometimes"\n\n[categories.A]\nthreshold = 2\n\n'
                    '[categories."B c"]\nalways_review = "often"\n'
                    'tags = ["x"]\n\n[categories.C.freshdesk]\ngroup = 12\nfeild = { name = "cf_x", value = "y" }\n')
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert [problem.removeprefix(f"{path}:").split(":")[0] for problem in caught.value.problems] == \
        ["1", "4", "7", "12"]
    assert "categories.C.freshdesk.feild: unknown key (known: group, assignee, field)" in caught.value.problems[3]


@pytest.mark.parametrize("make, problem", [
    (lambda folder: folder / "missing.toml", "routing file not found (TRIAGE_ROUTING_FILE)"),
    (lambda folder: folder, "routing file is a folder, not a file (TRIAGE_ROUTING_FILE)"),
])
def test_a_missing_routing_file_says_which_setting_points_there(tmp_path, make, problem):
    with pytest.raises(RoutingError) as caught:
        load_routing(make(tmp_path))
    assert str(caught.value) == f"{make(tmp_path)}: {problem}"


def test_a_yaml_routing_file_is_read(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text("categories:\n  Billing:\n    tags: [money]\n    zendesk: {group: 12, field: {id: 5, value: bill}}\n")
    route = load_routing(path).route_for("Billing")
    assert (route.tags, route.zendesk.group, route.zendesk.field.value) == (["money"], 12, "bill")
