"""Waiting in tests for what background threads do (bolt's lazy listeners, the admin page's follow-up)."""
from __future__ import annotations

import time


def wait_until(condition, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll `condition` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
