import json

import pytest

from classifier.artifact import MANIFEST_FILE, MODEL_FILE, ArtifactError, load_model, save_model


@pytest.fixture
def artifact(trained, tmp_path):
    model, _ = trained
    folder = tmp_path / "artifact"
    save_model(model, folder)
    return folder


def test_manifest_lists_versions_labels_and_hashes(artifact):
    manifest = json.loads((artifact / MANIFEST_FILE).read_text())
    assert manifest["labels"]["queue"] == ["Access", "Billing", "Hardware"]
    assert manifest["labels"]["priority"] == ["high", "normal"]
    assert len(manifest["files"][MODEL_FILE]["sha256"]) == 64
    assert "scikit-learn" in manifest["libraries"]


def test_changed_file_is_refused(artifact):
    path = artifact / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="model.joblib: sha256 does not match"):
        load_model(artifact)


def test_truncated_file_is_refused(artifact):
    path = artifact / MODEL_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match="model.joblib: truncated"):
        load_model(artifact)


def test_missing_manifest_is_refused(artifact):
    (artifact / MANIFEST_FILE).unlink()
    with pytest.raises(ArtifactError, match="missing manifest"):
        load_model(artifact)


def test_incompatible_library_is_refused(artifact):
    manifest = json.loads((artifact / MANIFEST_FILE).read_text())
    manifest["libraries"]["scikit-learn"] = "0.24.2"
    (artifact / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="scikit-learn 0.24.2"):
        load_model(artifact)


def test_not_a_folder_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="not a model folder"):
        load_model(tmp_path / "nothing-here")
