import json


from cli.main import main
from classifier_synthetic import FAST_MEMBERS

MEMBERS = ",".join(FAST_MEMBERS)


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out


def test_train_evaluate_predict_json(capsys, csv_path, tmp_path, registry_env):
    out = tmp_path / "model"
    code, stdout = _run(capsys, ["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                                 "--label", "priority", "--out", str(out), "--members", MEMBERS, "--json"])
    assert code == 0
    result = json.loads(stdout)
    assert result["model"] == str(out)
    assert result["n"] == 36 and 0.7 <= result["accuracy"] <= 1.0
    assert set(result["fields"]) == {"priority"}
    assert (out / "manifest.json").is_file()

    code, stdout = _run(capsys, ["evaluate", "--model", str(out), "--data", str(csv_path), "--text", "subject,body",
                                 "--label", "queue", "--json", "--report", str(tmp_path / "report.html")])
    assert code == 0
    report = json.loads(stdout)
    assert {"n", "accuracy", "macro_f1", "weighted_f1", "ece", "per_class", "coverage", "latency_ms"} <= set(report)
    assert set(report["per_class"]["Billing"]) == {"precision", "recall", "f1", "support"}
    assert {"threshold", "coverage", "accuracy"} == set(report["coverage"][0])
    assert report["latency_ms"]["p50"] > 0
    assert sum(row["count"] for row in report["reliability"]) == report["n"]
    page = (tmp_path / "report.html").read_text()
    for chart in ('aria-label="Coverage against accuracy"', 'aria-label="Calibration"', 'class="heatmap"'):
        assert chart in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained

    code, stdout = _run(capsys, ["predict", "--model", str(out), "refund the double charge on my invoice"])
    prediction = json.loads(stdout)
    assert code == 0 and prediction["category"] == "Billing"
    assert {"confidence", "probabilities", "explanation", "model_version", "fields", "derived"} <= set(prediction)


def test_train_into_registry_becomes_current(capsys, csv_path, registry_env):
    code, stdout = _run(capsys, ["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                                 "--members", "linear_svm,complement_nb", "--json"])
    assert code == 0
    version = json.loads(stdout)["version"]
    code, stdout = _run(capsys, ["predict", "laptop screen flickers"])
    assert json.loads(stdout)["model_version"] == version
    code, stdout = _run(capsys, ["models", "list"])
    assert json.loads(stdout)["current"] == version


def test_evaluate_counts_unseen_labels_as_errors(capsys, trained, tmp_path, frame):
    from classifier.artifact import save_model

    model, _ = trained
    save_model(model, tmp_path / "m")
    shifted = frame.head(30).copy()
    shifted.loc[:9, "queue"] = "Brand New Queue"
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    code, stdout = _run(capsys, ["evaluate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "shifted.csv"),
                                 "--text", "subject,body", "--label", "queue", "--json"])
    report = json.loads(stdout)
    assert code == 0
    assert report["per_class"]["Brand New Queue"]["recall"] == 0.0
    assert report["accuracy"] <= 20 / 30 + 1e-3
    assert report["unseen_labels"] == ["Brand New Queue"]


def test_missing_column_fails_with_its_name(capsys, csv_path, tmp_path):
    code = main(["train", "--data", str(csv_path), "--text", "nope", "--label", "queue", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_evaluate_takes_a_set_of_one_class(capsys, tmp_path, csv_path):
    out = tmp_path / "model"
    assert _run(capsys, ["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                         "--members", "linear_svm", "--out", str(out), "--json"])[0] == 0
    one_class = tmp_path / "billing.csv"
    one_class.write_text("subject,body,queue\nrefund,double charge on my invoice,Billing\nvat,invoice address,Billing\n")
    code, stdout = _run(capsys, ["evaluate", "--model", str(out), "--data", str(one_class), "--text", "subject,body",
                                 "--label", "queue", "--json"])
    assert code == 0 and json.loads(stdout)["n"] == 2
