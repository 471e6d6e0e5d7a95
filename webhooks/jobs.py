"""The RQ job entry point. RQ imports jobs by name, so the worker process binds its runner here once.

`runner` is anything with `process(delivery_id, owner)`: the time-limited runner in `triage worker`
(webhooks.isolation), the pipeline itself in tests. A runner that also has `process_batch` takes the job's
delivery with up to `BATCH_MORE` other due ones at once, and the jobs of those others leave the queue.
"""
from __future__ import annotations

BATCH_MORE = 15  # a job's delivery plus this many other due deliveries, claimed and classified together

_bound: dict = {}


def bind(runner, owner: str, queue=None) -> None:
    _bound.update(runner=runner, owner=owner, queue=queue)


def process_delivery(delivery_id: int) -> str:
    if "runner" not in _bound:
        raise RuntimeError("no pipeline bound in this process: start workers with `triage worker`")
    runner, queue = _bound["runner"], _bound.get("queue")
    if queue is not None:
        queue.started(delivery_id)  # from here on, a retry of this delivery may be queued again
    if not hasattr(runner, "process_batch"):
        return runner.process(delivery_id, _bound["owner"])
    outcomes = runner.process_batch([delivery_id], _bound["owner"], BATCH_MORE)
    if queue is not None:
        queue.forget([i for i in outcomes if i != delivery_id])  # done here: their jobs need not run
    return outcomes[delivery_id]
