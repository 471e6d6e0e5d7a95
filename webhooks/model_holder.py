"""Holds the loaded classifier for a process and swaps in a new current model without a failed request."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from classifier.artifact import load_model
from classifier.registry import ModelRegistry

log = logging.getLogger(__name__)


class ModelHolder:
    def __init__(self, registry: ModelRegistry):
        self._registry = registry
        self._lock = threading.Lock()
        self._model = None
        self._path: Path | None = None

    def get(self):
        """The current model, loaded on first use (callers keep the object they got for one request)."""
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._load(self._registry.current_path())
                model = self._model
        return model

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
        self._model, self._path = model, path
        log.info("model loaded", extra={"model_version": model.version, "path": str(path)})
