"""Work handed off after a request answered is waited for when the runtime closes (up to a bound), so a
shutdown never leaves a thread writing to a store that is going away. Both stores."""
from __future__ import annotations

import logging
import threading
import time

import pytest
from sqlalchemy import select

from store.models import AuditEntry
from webhooks.background import BackgroundWork


def test_wait_returns_once_every_handed_off_thread_finished():
    work, release, done = BackgroundWork(), threading.Event(), []
    work.start(lambda: (release.wait(5), done.append(1)), name="slow")
    work.start(done.append, 2, name="quick")
    time.sleep(0.05)
    assert work.running() == 1  # the quick one is gone from the set as soon as it ended
    release.set()
    assert work.wait(timeout=5) is True
    assert sorted(done) == [1, 2] and work.running() == 0


def test_wait_gives_up_at_its_bound_and_says_which_thread_it_left(caplog):
    work, release = BackgroundWork(), threading.Event()
    work.start(release.wait, 10, name="stuck-write")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert work.wait(timeout=0.2) is False
    assert time.monotonic() - started < 2
    assert any(r.__dict__.get("workers") == ["stuck-write"] for r in caplog.records)
    release.set()
    assert work.wait(timeout=5) is True


def test_a_failing_handed_off_thread_is_logged_and_no_longer_counted(caplog):
    work = BackgroundWork()
    with caplog.at_level(logging.ERROR):
        work.start(lambda: 1 / 0, name="fails").join(5)
    assert work.running() == 0 and work.wait(timeout=0.1) is True
    failed = [r for r in caplog.records if r.getMessage() == "background work failed"]
    assert len(failed) == 1 and failed[0].worker == "fails" and "ZeroDivisionError" in failed[0].exc_text


def test_pooled_tasks_are_waited_for_and_a_closed_pool_takes_nothing_new():
    work, release, done = BackgroundWork(), threading.Event(), []
    pool = work.pool("clicks", max_workers=1)
    assert work.pool("clicks", max_workers=3) is pool  # one pool per name
    pool.submit(lambda: (release.wait(10), done.append("first")))
    pool.submit(done.append, "queued behind it")  # one thread: this one waits its turn
    assert work.running() == 2
    assert work.wait(timeout=0.2) is False
    release.set()
    assert work.close(timeout=5) is True
    assert done == ["first", "queued behind it"] and work.running() == 0
    with pytest.raises(RuntimeError):
        pool.submit(done.append, "after close")


def test_close_drops_pooled_work_not_yet_started_so_the_process_can_exit():
    work, release, done = BackgroundWork(), threading.Event(), []
    pool = work.pool("writes", max_workers=1)
    running = pool.submit(lambda: (release.wait(10), done.append("running")))
    queued = pool.submit(done.append, "queued")
    assert work.close(timeout=0.2) is False
    assert queued.cancelled() and not running.cancelled()
    release.set()
    running.result(timeout=5)
    assert done == ["running"] and work.running() == 0


def test_closing_the_runtime_lets_a_handed_off_store_write_finish_first(make_app, store):
    runtime = make_app().extensions["triage"]
    started = threading.Event()

    def write_late() -> None:
        started.set()
        time.sleep(0.5)  # the close below begins while this is asleep
        with runtime.store.session() as session:
            session.add(AuditEntry(actor="test", action="late-write", target="t:1", before={}, after={}))

    runtime.background.start(write_late, name="late-write")
    assert started.wait(5)
    runtime.close()
    with store.session() as session:
        assert session.scalars(select(AuditEntry.action)).all() == ["late-write"]
