"""`triage train` writes the drift check's reference (a sketch of its held-out tickets' drift statistics) into the
manifest, and the daily check reads it; a model saved before the reference existed still loads."""
from __future__ import annotations

import json

from classifier.artifact import load_model
from cli.main import main
from classifier_synthetic import FAST_MEMBERS


def test_train_writes_the_drift_reference_of_its_holdout(capsys, csv_path, tmp_path, registry_env):
    out = tmp_path / "model"
    assert main(["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue", "--out", str(out),
                 "--members", ",".join(FAST_MEMBERS), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    reference = json.loads((out / "manifest.json").read_text())["drift_reference"]
    sketch = reference["sketch"]
    assert sketch["m"] == result["n"] == reference["n"]  # every held-out ticket
    assert sum(sketch["class_counts"].values()) == result["n"]
    assert {"oov_share", "confidence"} <= set(sketch["quantiles"])
    assert all(0 <= x <= 1 for x in sketch["quantiles"]["oov_share"]["grid"])
    model = load_model(out)  # the manifest's sha256 still matches
    assert "vocabulary_coverage" in model.predict("refund my invoice").derived


def test_without_a_holdout_train_writes_no_reference(capsys, csv_path, tmp_path, registry_env):
    out = tmp_path / "model"
    assert main(["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue", "--out", str(out),
                 "--members", "linear_svm,complement_nb", "--holdout", "0", "--json"]) == 0
    capsys.readouterr()
    assert "drift_reference" not in json.loads((out / "manifest.json").read_text())
