"""The start-up checks one by one: database, model against the routing file, Redis."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from cli.preflight import database_problems, preflight_or_exit
from webhook_app import REPO


def texts(problems) -> list[str]:
    return [problem.text for problem in problems]


def test_a_migrated_database_passes(store):
    assert database_problems(store.url, upgrade=False) == []


def test_a_missing_sqlite_file_is_fine_for_serve_and_named_for_a_worker(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    assert database_problems(url, upgrade=True) == []
    assert texts(database_problems(url, upgrade=False)) == [
        f"DATABASE_URL: the SQLite file {tmp_path / 'triage.db'} does not exist yet: run `triage db upgrade`"]
    assert not (tmp_path / "triage.db").exists()


def test_a_sqlite_file_in_a_missing_folder_is_named(tmp_path):
    [problem] = database_problems(f"sqlite:///{tmp_path / 'no' / 'triage.db'}", upgrade=True)
    assert problem.text.endswith(f"its folder {tmp_path / 'no'} does not exist")


def test_a_schema_from_a_newer_triage_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('ffffffffffff')"))
    engine.dispose()
    [problem] = database_problems(url, upgrade=True)
    assert "schema revision ffffffffffff, which this version of triage does not know" in problem.text


def test_an_older_schema_is_fine_for_serve_and_named_for_a_worker(tmp_path):
    from store.database import Store, upgrade

    url = f"sqlite:///{tmp_path / 'triage.db'}"
    store = Store(url)
    upgrade(store.engine, "base")  # the table alembic keeps, at no revision
    store.dispose()
    assert database_problems(url, upgrade=True) == []
    assert "has no tables yet: run `triage db upgrade`" in texts(database_problems(url, upgrade=False))[0]


def start_checks(monkeypatch, tmp_path, **overrides):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    args = SimpleNamespace(debug=False, command_line="serve")
    settings = {"database_url": f"sqlite:///{tmp_path / 'triage.db'}", "triage_model_dir": tmp_path / "models",
                **overrides}
    return preflight_or_exit(args, settings, upgrade=True)


def test_the_embedded_defaults_pass(monkeypatch, tmp_path, capsys):
    settings = start_checks(monkeypatch, tmp_path)
    assert settings.triage_routing_file == REPO / "config" / "routing.toml"
    assert capsys.readouterr().err == ""


def test_a_routed_category_the_model_never_predicts_is_a_warning(monkeypatch, tmp_path, capsys):
    routing = tmp_path / "routing.toml"
    routing.write_text("[categories.REFUNDS]\ntags = ['a']\n\n[categories.REFUND]\nthreshold = 0.9\n")
    start_checks(monkeypatch, tmp_path, triage_routing_file=routing)
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith(f"triage: warning: {routing}:4: category 'REFUND' is not one of the current model's")
    assert "REFUNDS" in warning


def test_an_unreachable_redis_is_named(monkeypatch, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        start_checks(monkeypatch, tmp_path, redis_url="redis://127.0.0.1:1/0")
    assert stopped.value.code == 2
    assert "  REDIS_URL: cannot reach Redis: " in capsys.readouterr().err


def test_a_tampered_model_is_named(monkeypatch, tmp_path, capsys):
    import shutil

    starter = tmp_path / "starter"
    shutil.copytree(REPO / "models" / "starter", starter)
    (starter / "manifest.json").write_text("{not json")
    with pytest.raises(SystemExit):
        start_checks(monkeypatch, tmp_path, triage_starter_model=starter)
    err = capsys.readouterr().err
    assert f"model (TRIAGE_MODEL_DIR / TRIAGE_STARTER_MODEL): {starter / 'manifest.json'}: unreadable manifest" in err
