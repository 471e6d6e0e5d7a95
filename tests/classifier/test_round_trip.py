import pytest

from classifier.artifact import load_model, save_model
from classifier.ticket import Ticket
from classifier.training import TrainOptions, fit_classifier
from classifier_synthetic import FAST_MEMBERS


def test_saved_model_predicts_the_same_after_loading(trained, tmp_path):
    model, _ = trained
    manifest = save_model(model, tmp_path / "artifact", metrics={"holdout": {}})
    loaded = load_model(tmp_path / "artifact")
    ticket = Ticket(subject="refund for a double charge", body="my invoice shows the payment twice")
    before, after = model.predict(ticket), loaded.predict(ticket)
    assert after.category == "Billing"
    assert after.probabilities == pytest.approx(before.probabilities)
    assert after.model_version == manifest["version"] == loaded.version
    assert loaded.labels == ["Access", "Billing", "Hardware"]
    assert sum(after.probabilities.values()) == pytest.approx(1.0, abs=1e-6)


def test_prediction_carries_fields_explanation_and_derived(trained):
    model, _ = trained
    prediction = model.predict(Ticket(subject="URGENT printer broken", body="the printer and monitor fail asap!!!"))
    assert prediction.category == "Hardware"
    assert set(prediction.fields) == {"priority"}
    assert prediction.fields["priority"].value == "high"
    assert any(term in {"printer", "monitor"} for term in prediction.explanation)
    assert prediction.derived["language"] == "en" and -1 <= prediction.derived["sentiment"] <= 1
    assert prediction.category in prediction.prediction_set or prediction.prediction_set == []


def test_batch_matches_single_predictions(trained):
    model, _ = trained
    tickets = [Ticket(body="cannot login, password reset"), Ticket(body="laptop battery dead"), Ticket(body="")]
    batch = model.predict_batch(tickets)
    for ticket, prediction in zip(tickets, batch):
        assert prediction.probabilities == pytest.approx(model.predict(ticket).probabilities)


def test_same_seed_gives_identical_models(frame):
    from classifier.dataset import load_labeled

    data = load_labeled(frame, ["subject", "body"], ["queue"])
    options = TrainOptions(seed=3, members=FAST_MEMBERS)
    first, _ = fit_classifier(data.tickets, data.labels, options)
    second, _ = fit_classifier(data.tickets, data.labels, options)
    probe = [Ticket(body="invoice login laptop"), Ticket(body="help please today")]
    for a, b in zip(first.predict_batch(probe), second.predict_batch(probe)):
        assert a.probabilities == b.probabilities


@pytest.mark.parametrize("body", ["", None, 12345, "   \n\t  ", "<html><body><p>printer</p></body></html>"])
def test_odd_inputs_are_answered(trained, body):
    model, _ = trained
    prediction = model.predict(Ticket(body=body))
    assert prediction.category in model.labels
    assert 0.0 <= prediction.confidence <= 1.0


def test_five_megabyte_body_is_answered(trained):
    model, _ = trained
    huge = ("printer monitor keyboard " * 230_000)[:5_000_000]
    prediction = model.predict(Ticket(subject="hardware", body=huge))
    assert prediction.category == "Hardware"


def test_bare_text_is_accepted(trained):
    model, _ = trained
    assert model.predict("password reset please, locked out").category == "Access"


def test_calibrated_ensemble_is_not_worse_than_best_member():
    """Held-out (out-of-fold) log-loss and ECE of the calibrated stack against every member's."""
    from classifier.dataset import load_labeled
    from classifier_synthetic import make_frame

    data = load_labeled(make_frame(rows_per_class=200, noise=0.15, seed=1), ["subject", "body"], ["queue"])
    _, report = fit_classifier(data.tickets, data.labels, TrainOptions(seed=7, members=FAST_MEMBERS))
    label = report["labels"]["queue"]
    members = label["members"].values()
    assert label["stacked_oof"]["log_loss"] <= min(m["log_loss"] for m in members)
    assert label["stacked_oof"]["ece"] <= min(m["ece"] for m in members) + 0.005
