import json

import pytest

from classifier.artifact import save_model
from classifier.registry import CURRENT_FILE, ModelRegistry, RegistryError


def _add_version(registry, model):
    folder = registry.new_version_dir()
    save_model(model, folder, version=folder.name)
    return folder.name


def test_promote_and_rollback_move_the_pointer(trained, tmp_path):
    model, _ = trained
    starter = tmp_path / "starter"
    save_model(model, starter)
    registry = ModelRegistry(tmp_path / "models", starter)
    assert registry.current_path() == starter
    first, second = _add_version(registry, model), _add_version(registry, model)
    registry.promote(first)
    registry.promote(second)
    assert registry.current_path().name == second
    statuses = {entry["version"]: entry["status"] for entry in registry.versions()}
    assert statuses == {first: "previous", second: "current"}
    assert registry.rollback() == first
    assert registry.load_current().version == first
    assert registry.rollback() is None
    assert registry.current_path() == starter
    assert json.loads((tmp_path / "models" / CURRENT_FILE).read_text())["current"] is None


def test_broken_version_cannot_be_promoted(trained, tmp_path):
    model, _ = trained
    registry = ModelRegistry(tmp_path / "models")
    version = _add_version(registry, model)
    (registry.versions_dir / version / "model.joblib").write_bytes(b"junk")
    with pytest.raises(Exception, match="model.joblib"):
        registry.promote(version)
    assert registry.current_version() is None
    with pytest.raises(RegistryError, match="unknown version"):
        registry.promote("nope")


def test_no_model_at_all_is_a_clear_error(tmp_path):
    with pytest.raises(RegistryError, match="no current model"):
        ModelRegistry(tmp_path / "models", tmp_path / "missing").current_path()
