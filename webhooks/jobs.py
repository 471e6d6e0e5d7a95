"""The RQ job entry point. RQ imports jobs by name, so the worker process binds its pipeline here once."""
from __future__ import annotations

_bound: dict = {}


def bind(pipeline, owner: str) -> None:
    _bound.update(pipeline=pipeline, owner=owner)


def process_delivery(delivery_id: int) -> str:
    if "pipeline" not in _bound:
        raise RuntimeError("no pipeline bound in this process: start workers with `triage worker`")
    return _bound["pipeline"].process(delivery_id, _bound["owner"])
