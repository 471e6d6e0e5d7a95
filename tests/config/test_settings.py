"""Settings and the routing file: a mistake stops start-up with one line that names it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.routing import RoutingError, load_routing
from config.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_ones():
    settings = load_settings(env_file=None)
    assert settings.database_url == "sqlite:///triage.db"
    assert settings.redis_url is None and settings.dry_run
    assert settings.triage_confidence_threshold == 0.7


@pytest.mark.parametrize("env, first_word", [
    ({"TRIAGE_CONFIDENCE_THRESHOLD": "1.5"}, "TRIAGE_CONFIDENCE_THRESHOLD"),
    ({"TRIAGE_CONFIDENCE_THRESHOLD": "high"}, "TRIAGE_CONFIDENCE_THRESHOLD"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"TRIAGE_MAX_ATTEMPTS": "0"}, "TRIAGE_MAX_ATTEMPTS"),
    ({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "t"}, "ZENDESK_WEBHOOK_SECRET"),
    ({"FRESHDESK_DOMAIN": "acme"}, "FRESHDESK_API_KEY"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch, env, first_word):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.split(":")[0] == first_word
    assert "\n" not in message


def test_a_secret_is_never_echoed_in_an_error(monkeypatch):
    monkeypatch.setenv("TRIAGE_API_KEYS", "k1")
    monkeypatch.setenv("DATABASE_URL", "mysql://user:hunter2@db/x")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert "hunter2" not in str(caught.value)


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


def test_the_command_line_stops_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TRIAGE_CONFIDENCE_THRESHOLD": "2", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], cwd=tmp_path, env={
        **env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "triage: configuration error: TRIAGE_CONFIDENCE_THRESHOLD: Input should be less than or equal to 1 (got '2')"]


def test_the_shipped_routing_file_is_valid():
    routing = load_routing(REPO / "config" / "routing.toml")
    assert routing.route_for("FEEDBACK").always_review
    assert routing.route_for("never heard of it").threshold is None


@pytest.mark.parametrize("suffix, text, where", [
    (".toml", "[categories.Billing]\nthreshold = 1.5\n", "categories.Billing.threshold"),
    (".toml", "[categories.Billing]\ntreshold = 0.5\n", "categories.Billing.treshold"),
    (".yaml", "mode: sometimes\n", "mode"),
    (".toml", "this is = = not toml", "cannot be read"),
])
def test_a_bad_routing_file_names_the_entry(tmp_path, suffix, text, where):
    path = tmp_path / f"routing{suffix}"
    path.write_text(text)
    with pytest.raises(RoutingError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(str(path)) and where in str(caught.value)


def test_a_yaml_routing_file_is_read(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text("categories:\n  Billing:\n    tags: [money]\n    zendesk: {group: 12, field: {id: 5, value: bill}}\n")
    route = load_routing(path).route_for("Billing")
    assert (route.tags, route.zendesk.group, route.zendesk.field.value) == (["money"], 12, "bill")
