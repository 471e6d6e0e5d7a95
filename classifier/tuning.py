"""`--tune N`: N Optuna trials, within a time budget, over the parameters that move accuracy most
(linear C, boosting depth and rate), scored by the stacker's held-out log-loss on a sample."""
from __future__ import annotations

import logging

import numpy as np

from classifier.extras import require
from classifier.features import TicketFeaturizer
from classifier.stacking import held_out_stacker_logits, make_folds, out_of_fold
from classifier.ticket import Ticket

log = logging.getLogger(__name__)

SAMPLE_ROWS = 8000


def _params(trial) -> dict:
    return {
        "linear_svm": {"C": trial.suggest_float("svm_C", 0.03, 3.0, log=True)},
        "lightgbm": {"lgbmclassifier__num_leaves": trial.suggest_int("lgbm_leaves", 7, 63, log=True),
                     "lgbmclassifier__learning_rate": trial.suggest_float("lgbm_rate", 0.05, 0.3, log=True)},
        "xgboost": {"xgbclassifier__max_depth": trial.suggest_int("xgb_depth", 3, 8)},
    }


def tune(tickets: list[Ticket], labels: np.ndarray, options, n_trials: int, budget_seconds: float) -> dict:
    optuna = require("optuna", "--tune")  # the optional `tune` extra
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    from classifier.members import member_spec
    from classifier.training import prepare_all

    rng = np.random.default_rng(options.seed)
    sample = rng.permutation(len(tickets))[:SAMPLE_ROWS]
    classes = sorted(set(labels[sample].tolist()))
    y = np.searchsorted(classes, labels[sample])
    prepared = prepare_all([tickets[i] for i in sample], options.timezone)
    views = TicketFeaturizer(options.timezone, use_embeddings=False).fit(prepared).transform(prepared)
    folds = make_folds(y, 3, options.seed)
    members = [name for name in ("linear_svm", "lightgbm", "xgboost") if options.members is None or name in options.members]

    def objective(trial) -> float:
        params = _params(trial)
        scores = []
        for name in members:
            spec = member_spec(name)
            estimator = spec.build(options.seed, len(y)).set_params(**params[name])
            scores.append(out_of_fold(estimator, views.view(spec.view), y, len(classes), folds))
        logits = held_out_stacker_logits(scores, y, len(classes), folds, options.seed)
        return log_loss(y, softmax(logits, axis=1), labels=np.arange(len(classes)))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=options.seed))
    study.optimize(objective, n_trials=n_trials, timeout=budget_seconds)
    log.info("tuning: %d trials, best held-out log-loss %.4f with %s", len(study.trials), study.best_value,
             study.best_params)

    best = _params(optuna.trial.FixedTrial(study.best_params))  # replay the best trial's suggestions
    return {name: value for name, value in best.items() if name in members}
