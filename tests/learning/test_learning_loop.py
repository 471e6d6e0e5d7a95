"""The whole learning loop on a simulated stream over weeks: one category's vocabulary shifts, drift is
detected, corrections arrive through the Slack path (and an agent's re-routing), the weekly retrain lifts
accuracy on the shifted data and is promoted, a worse candidate (labels shuffled) is refused, rollback
restores the previous version, and a running app switches models with no failed request."""
from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classifier.evaluation import evaluate
from classifier.registry import ModelRegistry
from classifier.training import TrainOptions
from cli.main import main
from config.routing import load_routing
from config.validation import load_settings
from integrations.slack.clicks import ClickRecorder
from learning.drift import check as drift_check
from learning.rerouting import record_rerouting
from learning.retrain import retrain
from learning.training_set import Example
from learning_stream import FAST, SHIFTED_CATEGORY, examples, stream_day
from store.database import Store
from store.models import ModelVersion
from store.types import utcnow
from webhook_app import app_settings

OPTIONS = TrainOptions(seed=1, members=FAST, embeddings="off")


def accuracy_on(model, data: list[Example]) -> float:
    return evaluate(model, [e.ticket for e in data], np.array([e.label for e in data], dtype=object),
                    measure_latency=False)["accuracy"]


def test_drift_corrections_retrain_refusal_rollback(tmp_path, monkeypatch, capsys):
    settings = load_settings(app_settings(f"sqlite:///{tmp_path / 'triage.db'}", triage_model_dir=tmp_path / "models",
                                          triage_starter_model=tmp_path / "no-starter"), env_file=None)
    store = Store(settings.database_url)
    store.upgrade()
    registry = ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)
    base = examples(40, seed=1)

    first = retrain(settings, store, registry, OPTIONS, base=base)
    assert first.promoted and registry.current_version() == first.version
    champion = registry.load_current()
    shifted_test = [e for e in examples(30, seed=99, shifted=True) if e.label == SHIFTED_CATEGORY]
    before = accuracy_on(champion, shifted_test)

    # three weeks ago: the old vocabulary (the drift reference); this week: Hardware words shift
    stream_day(store, champion, day=16, n=60, seed=5, shifted=False)
    week = [t for day in range(1, 6) for t in stream_day(store, champion, day=day, n=40, seed=day, shifted=True)]
    with store.session() as session:
        reference = registry.versions()[-1]["drift_reference"]
        figures = {(r.metric, r.segment): r.value for r in drift_check(session, reference, first.version, utcnow())}
    assert figures[("psi_terms", "all")] > 0.2, figures

    clicks = ClickRecorder(store, load_routing(settings.triage_routing_file), helpdesks={})
    rng = random.Random(0)
    for external_id, truth, decision, predicted in week:
        if decision == "review":
            assert clicks.click("zendesk", external_id, "U-REVIEWER", truth).outcome == "routed"
        elif predicted != truth and rng.random() < 0.9:
            assert record_rerouting(store, "zendesk", external_id, truth, "agent@example.com")
    with store.session() as session:
        figures = {(r.metric, r.segment): r.value for r in drift_check(session, reference, first.version, utcnow())}
    assert figures[("accuracy", f"category:{SHIFTED_CATEGORY}")] < figures[("accuracy", "category:Billing")]

    second = retrain(settings, store, registry, OPTIONS, base=base)
    assert second.promoted, second.reason
    after = accuracy_on(registry.load_current(), shifted_test)
    with capsys.disabled():  # the figure for the report (pytest -s)
        print(f"\naccuracy on shifted {SHIFTED_CATEGORY}: before {before:.3f}, after {after:.3f}")
    assert after >= before + 0.3 and after >= 0.8

    shuffled_labels = [e.label for e in base]
    random.Random(3).shuffle(shuffled_labels)
    worse = retrain(settings, store, registry, OPTIONS,
                    base=[Example(e.ticket, label) for e, label in zip(base, shuffled_labels)])
    assert not worse.promoted and "below the champion" in worse.reason
    assert registry.current_version() == second.version
    with store.session() as session:
        statuses = {row.version: (row.status, row.reason) for row in session.query(ModelVersion)}
    assert statuses[worse.version][0] == "rejected" and statuses[worse.version][1] == worse.reason
    assert statuses[second.version][0] == "current" and statuses[first.version][0] == "retired"
    in_registry = {entry["version"]: entry["status"] for entry in registry.versions()}  # what the admin page reads
    assert in_registry[worse.version] == "rejected" and in_registry[first.version] == "previous"

    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(tmp_path / "models"))
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    listed = {row["version"]: row for row in json.loads(capsys.readouterr().out)["versions"]}
    assert listed[worse.version]["status"] == "rejected" and listed[worse.version]["reason"] == worse.reason
    assert listed[second.version]["status"] == "current" and listed[second.version]["data"]["corrections_trained"]
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["learning", "drift"]) == 0  # the same check the clock runs daily, against the current model
    checked = json.loads(capsys.readouterr().out)
    assert any(row["metric"] == "psi_terms" and row["segment"] == "all" and row["n"] > 0 for row in checked)
    assert main(["learning", "report"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"metric": "psi_terms", "segment": "all"}.items() <= next(
        row for row in report["drift"] if row["metric"] == "psi_terms").items()

    assert main(["models", "rollback"]) == 0  # from a shell: the registry moves and model_versions follows at once
    assert capsys.readouterr().out.strip() == f"current: {first.version}"
    assert registry.load_current().version == first.version
    with store.session() as session:
        statuses = {row.version: row.status for row in session.query(ModelVersion)}
    assert statuses == {first.version: "current", second.version: "retired", worse.version: "rejected"}
    store.dispose()


def test_a_running_app_switches_models_without_a_failed_request(tmp_path):
    from app import create_app
    from classifier.artifact import save_model
    from classifier.training import fit_classifier

    registry = ModelRegistry(tmp_path / "models")
    data = examples(15, seed=2)
    versions = []
    for seed in (1, 2):
        model, _ = fit_classifier([e.ticket for e in data], {"category": np.array([e.label for e in data], dtype=object)},
                                  TrainOptions(seed=seed, members=("linear_svm", "complement_nb"), embeddings="off"))
        folder = registry.new_version_dir()
        save_model(model, folder, version=folder.name)
        versions.append(folder.name)
    registry.promote(versions[0])
    app = create_app(app_settings(f"sqlite:///{tmp_path / 'triage.db'}", triage_model_dir=tmp_path / "models",
                                  triage_api_keys=["k"], triage_model_poll_seconds=0.05), env_file=None)
    app.extensions["triage"].store.upgrade()
    seen, failures, stop = set(), [], threading.Event()

    def hammer():
        client = app.test_client()
        while not stop.is_set():
            response = client.post("/predict", json={"subject": "printer", "body": "broken"},
                                   headers={"Authorization": "Bearer k"})
            if response.status_code != 200:
                failures.append(response.status_code)
            else:
                seen.add(response.get_json()["model_version"])

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: versions[0] in seen)
        registry.promote(versions[1])
        _wait_for(lambda: versions[1] in seen)
        registry.rollback()
        seen.clear()
        _wait_for(lambda: seen == {versions[0]} or versions[0] in seen)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        app.extensions["triage"].close()
    assert failures == []


def _wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
