"""Model artifact: a folder with `model.joblib` and `manifest.json` (sha256 of each file, versions).

joblib files are pickles, so loading checks every file against the manifest's sha256 before
unpickling and refuses an artifact written by an incompatible library version. Every refusal is one
`ArtifactError` whose message names the file and what is wrong.
"""
from __future__ import annotations

import hashlib
import json
import platform
import secrets
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import joblib

from classifier.extras import install_hint, installed
from classifier.model import TicketClassifier
from classifier.normalisation import check_version

FORMAT = "triage-classifier/1"
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
# Library -> how many leading version parts must match for a pickle to be trusted.
COMPATIBLE_PARTS = {"scikit-learn": 2, "numpy": 1, "scipy": 1, "lightgbm": 1, "xgboost": 1, "joblib": 1}


class ArtifactError(Exception):
    """A model artifact is missing, tampered, truncated or incompatible."""


# Library -> the distributions that install it: the core depends on `xgboost-cpu` (no CUDA libraries),
# which provides the same `xgboost` module as the `xgboost` wheel.
DISTRIBUTIONS = {"xgboost": ("xgboost-cpu", "xgboost")}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in [*COMPATIBLE_PARTS, "sentence-transformers", "torch"]:
        versions[name] = "absent"
        for distribution in DISTRIBUTIONS.get(name, (name,)):
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_version_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def save_model(model: TicketClassifier, folder: Path, *, version: str | None = None, metrics: dict | None = None,
               data_fingerprint: str = "", extra: dict | None = None) -> dict:
    """Write the model and its manifest into `folder` (created if needed); returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / MODEL_FILE, compress=3)
    manifest = {
        "format": FORMAT,
        "version": version or new_version_id(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_fingerprint": data_fingerprint,
        "labels": {m.name: list(m.classes) for m in model.label_models},
        "main_label": model.label_models[0].name,
        "members": {m.name: list(m.members) for m in model.label_models},
        "embedding_model": getattr(model.featurizer, "embedding_model", None)
        if any(m.needs_embedding for m in model.label_models) else None,
        "alpha": model.label_models[0].alpha,
        "text_normalisation": model.text_normalisation,  # classifier.normalisation.VERSION when it was trained
        "metrics": metrics or {},
        "libraries": library_versions(),
        "files": {MODEL_FILE: {"sha256": sha256_of(folder / MODEL_FILE), "bytes": (folder / MODEL_FILE).stat().st_size}},
        **(extra or {}),
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    model.version, model.manifest = manifest["version"], manifest
    return manifest


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST_FILE
    if not Path(folder).is_dir():
        raise ArtifactError(f"{folder}: not a model folder (no such directory)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing manifest") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path}: unknown artifact format {manifest.get('format') if isinstance(manifest, dict) else None!r}, expected {FORMAT!r}")
    return manifest


def verify_files(folder: Path, manifest: dict) -> None:
    files = manifest.get("files") or {}
    if MODEL_FILE not in files:
        raise ArtifactError(f"{Path(folder) / MANIFEST_FILE}: lists no {MODEL_FILE}")
    for name, expected in files.items():
        path = Path(folder) / name
        if not path.is_file():
            raise ArtifactError(f"{path}: missing file listed in the manifest")
        size = path.stat().st_size
        if size != expected.get("bytes", size):
            raise ArtifactError(f"{path}: truncated or changed ({size} bytes, manifest says {expected['bytes']})")
        if sha256_of(path) != expected.get("sha256"):
            raise ArtifactError(f"{path}: sha256 does not match the manifest (file changed after training)")


def check_compatible(folder: Path, manifest: dict) -> None:
    built, here = manifest.get("libraries") or {}, library_versions()
    for name, parts in COMPATIBLE_PARTS.items():
        then, now = built.get(name), here.get(name)
        if then and now and then.split(".")[:parts] != now.split(".")[:parts]:
            raise ArtifactError(f"{Path(folder) / MANIFEST_FILE}: built with {name} {then}, this process has {now}; retrain the model")


def check_extras(folder: Path, manifest: dict) -> None:
    """A model with the embedding member needs the optional `embeddings` extra to predict at all."""
    if manifest.get("embedding_model") and not installed("embeddings"):
        raise ArtifactError(install_hint("embeddings", f"{folder}: this model uses sentence embeddings "
                                         f"({manifest['embedding_model']}) and needs the optional extra 'embeddings', "
                                         "which is not installed"))


def check_text_normalisation(folder: Path, manifest: dict) -> None:
    """A model reads text normalised the way it was trained; one from a newer triage may need a form this one
    cannot produce. No `text_normalisation` in the manifest: a model from before it existed (version 0)."""
    if "text_normalisation" in manifest:
        try:
            check_version(manifest["text_normalisation"])
        except ValueError as exc:
            raise ArtifactError(f"{Path(folder) / MANIFEST_FILE}: {exc}; upgrade triage or retrain the model") from None


def load_model(path: str | Path) -> TicketClassifier:
    folder = Path(path)
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    check_compatible(folder, manifest)
    check_extras(folder, manifest)
    check_text_normalisation(folder, manifest)
    try:
        model = joblib.load(folder / MODEL_FILE)
    except Exception as exc:  # a pickle that passed the hash but still fails: say so, once
        raise ArtifactError(f"{folder / MODEL_FILE}: cannot be loaded ({type(exc).__name__}: {exc})") from None
    if not isinstance(model, TicketClassifier):
        raise ArtifactError(f"{folder / MODEL_FILE}: holds a {type(model).__name__}, not a TicketClassifier")
    declared = manifest.get("text_normalisation", 0)
    if model.text_normalisation != declared:
        raise ArtifactError(f"{folder / MANIFEST_FILE}: says text normalisation version {declared}, the model was "
                            f"trained with {model.text_normalisation}; the manifest was edited, retrain the model")
    model.version, model.manifest = str(manifest.get("version")), manifest
    return model
