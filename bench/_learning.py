"""Shared piece of the learning benchmarks: settings, an upgraded SQLite store and an empty model registry in
a scratch folder, for retraining in-process."""
from __future__ import annotations

from pathlib import Path


def scratch_learning(work: Path):
    """(settings, store, registry) rooted in `work`; the caller disposes of the store."""
    from classifier.registry import ModelRegistry
    from config.validation import load_settings
    from store.database import Store

    settings = load_settings({"database_url": f"sqlite:///{work / 'bench.db'}", "triage_model_dir": work / "m",
                              "triage_starter_model": work / "none"}, env_file=None)
    store = Store(settings.database_url)
    store.upgrade()
    return settings, store, ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)
