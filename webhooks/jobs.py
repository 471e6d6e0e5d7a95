"""The RQ job entry point. RQ imports jobs by name, so the worker process binds its runner here once.

`runner` is anything with `process(delivery_id, owner)`: the time-limited runner in `triage worker`
(webhooks.isolation), the pipeline itself in tests.
"""
from __future__ import annotations

_bound: dict = {}


def bind(runner, owner: str, queue=None) -> None:
    _bound.update(runner=runner, owner=owner, queue=queue)


def process_delivery(delivery_id: int) -> str:
    if "runner" not in _bound:
        raise RuntimeError("no pipeline bound in this process: start workers with `triage worker`")
    if _bound.get("queue") is not None:
        _bound["queue"].started(delivery_id)  # from here on, a retry of this delivery may be queued again
    return _bound["runner"].process(delivery_id, _bound["owner"])
