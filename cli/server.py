"""`triage serve`: gunicorn with one threaded worker process that also runs the worker pool and the clock."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _EmbeddedServer(BaseApplication):
    def __init__(self, settings, host: str, port: int):
        self.settings = settings
        self.runtime = None
        self.bind = f"{host}:{port}"
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", self.bind)
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 8)
        self.cfg.set("accesslog", None)
        self.cfg.set("post_worker_init", self._start_background)
        self.cfg.set("worker_exit", self._stop_background)

    def load(self):
        """Runs in the worker process after the fork, so no model or connection crosses it."""
        from app import create_app
        from webhooks.runtime import build_runtime

        self.runtime = build_runtime(self.settings)
        self.runtime.models.get()
        return create_app(runtime=self.runtime)

    def _start_background(self, worker) -> None:
        from webhooks.clock import build_scheduler

        self.runtime.queue.start()
        self.scheduler = build_scheduler(self.runtime)
        self.scheduler.start()

    def _stop_background(self, server, worker) -> None:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        self.runtime.queue.stop()


def serve(settings, host: str, port: int) -> int:
    _EmbeddedServer(settings, host, port).run()
    return 0
