import numpy as np

from classifier.calibration import (conformal_quantile, singleton_threshold, expected_calibration_error, fit_temperature,
                                    prediction_sets)
from classifier.evaluation import conformal_summary
from classifier_synthetic import uniform_probabilities


def test_conformal_sets_hold_their_error_bound():
    alpha = 0.1
    calibration, y_cal = uniform_probabilities(3000, 6, seed=1)
    test, y_test = uniform_probabilities(6000, 6, seed=2)
    quantile = conformal_quantile(calibration, y_cal, alpha)
    plain = [[str(i) for i in s] for s in prediction_sets(test, quantile)]
    truth = np.array([str(y) for y in y_test])
    # plain split-conformal covers, but errs more than alpha among its singletons on this set
    assert conformal_summary(plain, truth, alpha)["error_among_auto_routed"] > alpha + 0.02
    floor = singleton_threshold(calibration, y_cal, quantile, alpha)
    sets = [[str(i) for i in s] for s in prediction_sets(test, quantile, floor)]
    summary = conformal_summary(sets, truth, alpha)
    assert summary["coverage"] >= 1 - alpha - 0.015
    assert summary["error_among_auto_routed"] <= alpha + 0.015
    assert 0 < summary["auto_routed"] < 1


def test_temperature_repairs_overconfidence():
    probabilities, y = uniform_probabilities(4000, 5, seed=3)
    sharp = np.log(probabilities + 1e-12) * 3.0  # logits three times too confident
    temperature = fit_temperature(sharp, y)
    assert 2.4 < temperature < 3.6
    from scipy.special import softmax

    before = softmax(sharp, axis=1)
    after = softmax(sharp / temperature, axis=1)
    ece = lambda p: expected_calibration_error(p.max(1), p.argmax(1) == y)
    assert ece(after) < ece(before) / 2


def test_ece_of_perfect_and_wrong_confidence():
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == 0.0
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([False, False])) == 0.9
