import json

import pandas as pd

from cli.main import main
from classifier_synthetic import FAST_MEMBERS, make_frame

MEMBERS = ",".join(FAST_MEMBERS)


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out


def test_train_evaluate_predict_json(capsys, csv_path, tmp_path, registry_env):
    out = tmp_path / "model"
    code = main(["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                 "--label", "priority", "--out", str(out), "--members", MEMBERS, "--json"])
    captured = capsys.readouterr()
    assert code == 0
    stdout = captured.out
    assert stdout.endswith("}\n") and stdout.count("\n") == 1  # exactly one JSON object, nothing else
    for stage in ("reading data", "features", "queue: members (4 members x 5 folds)", "queue: members: lightgbm (4/4)",
                  "priority: refit", "saving", "done"):
        assert stage in captured.err  # progress went to stderr, one plain line per stage (not a terminal)
    assert "\r" not in captured.err
    result = json.loads(stdout)
    assert result["routed"]["threshold"] == 0.7 and 0 < result["routed"]["share"] <= 1
    assert set(result["training"]["labels"]["queue"]["weights"]) == set(result["training"]["labels"]["queue"]["kept"])
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
    for chart in ('aria-label="Auto-routing: share routed against accuracy"', 'aria-label="Calibration (labels: tickets',
                  'aria-label="F1 per class"', 'class="heatmap"', "Most confident mistakes"):
        assert chart in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    assert report["overlap"] == {"rows": 144, "share": 0.8}  # the CSV holds the 144 training rows

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


def _train(capsys, csv, out, *extra):
    code = main(["train", "--data", str(csv), "--text", "subject,body", "--label", "queue", "--members", "linear_svm",
                 "--out", str(out), *extra])
    return code, capsys.readouterr()


def _evaluate(capsys, model, csv, *extra):
    code = main(["evaluate", "--model", str(model), "--data", str(csv), "--text", "subject,body", "--label", "queue",
                 *extra])
    return code, capsys.readouterr()


def test_train_prints_a_table_for_a_person_and_quiet_silences_progress(capsys, csv_path, tmp_path):
    code, captured = _train(capsys, csv_path, tmp_path / "model", "--quiet")
    assert code == 0
    assert captured.out.startswith("Trained model ") and "Holdout: 36 tickets" in captured.out
    assert "linear_svm" in captured.out and "100%" in captured.out and "{" not in captured.out
    assert captured.err == ""  # --quiet: no progress; no warning on this data


def _fresh_rows(n: int) -> pd.DataFrame:
    """Rows no training set here contains: each body carries its own order number."""
    rows = make_frame(rows_per_class=n // 3 + 1, seed=11).head(n).copy()
    rows["body"] = [f"{body} order {1000 + i}" for i, body in enumerate(rows["body"])]
    return rows


def test_evaluate_warns_with_the_count_of_rows_the_model_trained_on(capsys, frame, tmp_path):
    train_csv, overlapping, disjoint = tmp_path / "train.csv", tmp_path / "overlap.csv", tmp_path / "disjoint.csv"
    frame.to_csv(train_csv, index=False)
    fresh = _fresh_rows(40)
    pd.concat([frame.head(30), fresh]).to_csv(overlapping, index=False)
    fresh.to_csv(disjoint, index=False)
    assert _train(capsys, train_csv, tmp_path / "model", "--holdout", "0")[0] == 0

    code, captured = _evaluate(capsys, tmp_path / "model", overlapping, "--json")
    assert code == 0 and json.loads(captured.out)["overlap"] == {"rows": 30, "share": round(30 / 70, 4)}
    assert ("30 of 70 evaluation rows (42.9%) also appear in this model's training data: these figures are "
            "optimistic") in captured.err

    code, captured = _evaluate(capsys, tmp_path / "model", disjoint, "--json")
    assert json.loads(captured.out)["overlap"] == {"rows": 0, "share": 0.0}
    assert "also appear" not in captured.err

    code, captured = _evaluate(capsys, tmp_path / "model", overlapping)  # the table for a person says it too
    assert "Overlap with the training data: 30 rows (42.9%)" in captured.out


def test_a_model_without_training_hashes_says_the_check_could_not_be_made(capsys, trained, tmp_path, csv_path):
    from classifier.artifact import save_model

    from classifier.evaluation import TRAINING_HASHES

    model, _ = trained
    assert len(getattr(model, TRAINING_HASHES)) > 0  # every fitted model keeps them now ...
    delattr(model, TRAINING_HASHES)  # ... a model saved before they existed has none
    save_model(model, tmp_path / "m")
    code, captured = _evaluate(capsys, tmp_path / "m", csv_path, "--json")
    assert code == 0 and json.loads(captured.out)["overlap"] == {"rows": None, "share": None}
    assert "overlap with its training data could not be checked" in captured.err


def test_report_compares_with_the_model_in_service_and_lists_escaped_mistakes(capsys, frame, tmp_path, registry_env):
    train_csv, evaluate_csv = tmp_path / "train.csv", tmp_path / "evaluate.csv"
    frame.to_csv(train_csv, index=False)
    hostile = {"subject": "locked out", "body": "&lt;script&gt;alert(1)&lt;/script&gt; password reset login",
               "queue": "Billing", "priority": "normal"}  # an Access ticket labelled Billing: a confident mistake
    pd.concat([_fresh_rows(60), pd.DataFrame([hostile])]).to_csv(evaluate_csv, index=False)
    code = main(["train", "--data", str(train_csv), "--text", "subject,body", "--label", "queue",
                 "--members", "complement_nb", "--quiet"])  # into the registry: becomes the model in service
    service_version = capsys.readouterr().out.split()[2]  # "Trained model <version> in ..."
    assert code == 0
    assert _train(capsys, train_csv, tmp_path / "candidate", "--quiet")[0] == 0

    code, captured = _evaluate(capsys, tmp_path / "candidate", evaluate_csv, "--report", str(tmp_path / "r.html"),
                               "--json")
    assert code == 0
    result = json.loads(captured.out)
    assert result["compared_with"]["model_version"] == service_version
    assert "misclassified" not in result  # ticket texts stay in the report
    page = (tmp_path / "r.html").read_text()
    assert f"Against the model in service ({service_version})" in page
    assert "F1 change" in page and page.count("<tr") >= 4
    assert "Most confident mistakes" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; password reset login" in page
    assert "<script" not in page
