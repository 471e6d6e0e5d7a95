"""Predict-pool child initializers for tests (importable in a spawned child: tests/ is on its sys.path)."""
from __future__ import annotations


def start_child_with_a_failing_model(settings) -> None:
    """The real child start, then the loaded model raises on every input (as a model bug would)."""
    from api import predict_pool

    predict_pool._start_child(settings)
    model = predict_pool._child["models"].get()

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    model.predict = overflow
    model.predict_batch = overflow
