"""File-based model registry in TRIAGE_MODEL_DIR: `versions/<id>/` artifacts and a `current.json` pointer.

The pointer is replaced atomically (temp file + os.replace), so a reader sees the old or the new
current version, never half of one. It keeps the promotion history, which `rollback` walks back.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from classifier.artifact import ArtifactError, load_model, new_version_id, read_manifest
from classifier.model import TicketClassifier

CURRENT_FILE = "current.json"
VERSIONS_DIR = "versions"


class RegistryError(Exception):
    """The registry cannot do what was asked (unknown version, nothing to roll back to, no model)."""


class ModelRegistry:
    def __init__(self, root: Path, starter: Path | None = None):
        self.root = Path(root)
        self.starter = Path(starter) if starter else None

    @property
    def versions_dir(self) -> Path:
        return self.root / VERSIONS_DIR

    def new_version_dir(self) -> Path:
        """A fresh, empty folder for a new artifact (its name is the version id)."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        while True:
            folder = self.versions_dir / new_version_id()
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue

    def _pointer(self) -> dict:
        try:
            return json.loads((self.root / CURRENT_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"current": None, "history": []}
        except json.JSONDecodeError as exc:
            raise RegistryError(f"{self.root / CURRENT_FILE}: unreadable ({exc})") from None

    def _write_pointer(self, pointer: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".current-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(pointer, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self.root / CURRENT_FILE)

    def current_version(self) -> str | None:
        return self._pointer().get("current")

    def versions(self) -> list[dict]:
        """Every stored version's manifest, oldest first, with `status` current/previous/available/broken,
        or rejected (a retrain the promotion rule refused; see learning.retrain)."""
        pointer = self._pointer()
        found = []
        if not self.versions_dir.is_dir():
            return found
        for folder in sorted(p for p in self.versions_dir.iterdir() if p.is_dir()):
            try:
                manifest = read_manifest(folder)
            except ArtifactError as exc:
                found.append({"version": folder.name, "status": "broken", "error": str(exc)})
                continue
            status = "current" if folder.name == pointer.get("current") else (
                "previous" if folder.name in pointer.get("history", []) else
                "rejected" if manifest.get("outcome") == "rejected" else "available")
            found.append({**manifest, "status": status, "path": str(folder)})
        return found

    def current_path(self) -> Path:
        """The current version's folder, else the bundled starter model."""
        current = self.current_version()
        if current:
            return self.versions_dir / current
        if self.starter and self.starter.is_dir():
            return self.starter
        raise RegistryError(f"no current model in {self.root} and no starter model")

    def promote(self, version: str) -> None:
        """Make `version` current after checking it loads (hashes, format, library versions)."""
        folder = self.versions_dir / version
        if not folder.is_dir():
            raise RegistryError(f"unknown version {version!r} in {self.versions_dir}")
        load_model(folder)
        pointer = self._pointer()
        if pointer.get("current") == version:
            return
        history = list(pointer.get("history", []))
        if pointer.get("current"):
            history.append(pointer["current"])
        self._write_pointer({"current": version, "history": history})

    def rollback_target(self) -> str | None:
        """What `rollback` would make current (None: the starter), for a confirmation before doing it."""
        pointer = self._pointer()
        if not pointer.get("current"):
            raise RegistryError("nothing to roll back: no version is current")
        history = pointer.get("history", [])
        return history[-1] if history else None

    def rollback(self) -> str | None:
        """Return to the previously current version (or the starter when there is none); gives the new current."""
        pointer = self._pointer()
        if not pointer.get("current"):
            raise RegistryError("nothing to roll back: no version is current")
        history = list(pointer.get("history", []))
        previous = history.pop() if history else None
        self._write_pointer({"current": previous, "history": history})
        return previous

    def load_current(self) -> TicketClassifier:
        return load_model(self.current_path())
