"""`--tune N`: Optuna trials over the members' main parameters, replayed into estimator parameters."""
from classifier.dataset import load_labeled
from classifier.members import member_spec
from classifier.training import TrainOptions
from classifier.tuning import tune


def test_tune_returns_the_best_trial_as_parameters_the_members_accept(frame):
    data = load_labeled(frame, ["subject", "body"], ["queue"])
    options = TrainOptions(seed=3, members=("linear_svm", "lightgbm"))
    params = tune(data.tickets, data.labels["queue"], options, n_trials=3, budget_seconds=60)
    assert set(params) == {"linear_svm", "lightgbm"}  # xgboost not asked for, not tuned
    assert 0.03 <= params["linear_svm"]["C"] <= 3.0
    assert 7 <= params["lightgbm"]["lgbmclassifier__num_leaves"] <= 63
    for name, values in params.items():
        estimator = member_spec(name).build(3, 100).set_params(**values)
        assert all(estimator.get_params()[key] == value for key, value in values.items())
