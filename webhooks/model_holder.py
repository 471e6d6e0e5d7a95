"""Holds the loaded classifier for a process and swaps in a new current model without a failed request.

With `poll_seconds`, `get()` looks at the registry's pointer at most that often and, when it names another
version, loads it in a background thread; requests keep the old model until the new one is ready, so a
promotion or rollback reaches every web and worker process within seconds, without a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from classifier.artifact import load_model
from classifier.registry import ModelRegistry
from classifier.ticket import Ticket

log = logging.getLogger(__name__)


class ModelHolder:
    def __init__(self, registry: ModelRegistry, poll_seconds: float | None = None):
        self._registry = registry
        self._lock = threading.Lock()
        self._model = None
        self._path: Path | None = None
        self._poll_seconds = poll_seconds
        self._next_poll = 0.0
        self._polling = threading.Lock()

    def get(self):
        """The current model, loaded on first use (callers keep the object they got for one request)."""
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._load(self._registry.current_path())
                model = self._model
        elif self._poll_seconds is not None and time.monotonic() >= self._next_poll:
            self._poll_in_background()
        return model

    def _poll_in_background(self) -> None:
        if not self._polling.acquire(blocking=False):
            return  # a poll is already running
        self._next_poll = time.monotonic() + self._poll_seconds

        def poll():
            try:
                self.refresh()
            except Exception as exc:  # a broken new version: keep serving the old one, say so
                log.warning("model refresh failed; serving the loaded model", extra={"error": str(exc)})
            finally:
                self._polling.release()

        threading.Thread(target=poll, name="model-refresh", daemon=True).start()

    def refresh(self) -> bool:
        """Load the registry's current model if it changed; the old one serves until the new one is ready."""
        path = self._registry.current_path()
        if path == self._path and self._model is not None:
            return False
        with self._lock:
            self._load(path)
        return True

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self, path: Path) -> None:
        model = load_model(path)
        # one prediction loads what the model loads lazily (the sentence-embedding encoder), so the first
        # ticket after a start or a swap does not pay for it
        model.predict(Ticket(subject="warm-up", body="loading the model"))
        self._model, self._path = model, path
        log.info("model loaded", extra={"model_version": model.version, "path": str(path)})
