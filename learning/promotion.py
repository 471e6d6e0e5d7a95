"""The promotion rule, and the store's `model_versions` table kept in step with the file registry.

A candidate replaces the champion only if, on the same evaluation tickets, its macro-F1 is at most
`MAX_F1_DROP` below the champion's and its accuracy among the tickets it would auto-route (confidence at
or above the threshold) is not lower. Anything else is kept as a `rejected` version with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from store.database import Store
from store.models import ModelVersion
from store.types import utcnow

MAX_F1_DROP = 0.005


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def decide(candidate: dict, champion: dict | None) -> Decision:
    """`candidate`/`champion`: {"macro_f1": float, "auto_routed": {"accuracy": float|None}} on the same tickets."""
    if champion is None or champion.get("macro_f1") is None:
        return Decision(True, "no champion to compare with")
    drop = champion["macro_f1"] - (candidate.get("macro_f1") or 0.0)
    if drop > MAX_F1_DROP:
        return Decision(False, f"macro-F1 {candidate.get('macro_f1')} is {drop:.4f} below the champion's "
                               f"{champion['macro_f1']} (at most {MAX_F1_DROP} allowed)")
    ours, theirs = candidate["auto_routed"].get("accuracy"), champion["auto_routed"].get("accuracy")
    if theirs is not None and (ours is None or ours < theirs):
        return Decision(False, f"accuracy on auto-routed tickets {ours} is below the champion's {theirs}")
    return Decision(True, f"macro-F1 {candidate.get('macro_f1')} vs {champion['macro_f1']}, auto-routed accuracy "
                          f"{ours} vs {theirs}")


def record_version(store: Store, version: str, path: str, status: str, metrics: dict, reason: str | None) -> None:
    with store.session() as session:
        row = session.get(ModelVersion, version) or ModelVersion(version=version, path=path, created_at=utcnow())
        row.path, row.status, row.metrics, row.reason = path, status, metrics, reason
        if status == "current":
            row.promoted_at = utcnow()
        session.add(row)
    sync_versions(store, None)


def sync_versions(store: Store, registry) -> None:
    """Mirror which version is current: the registry's pointer wins; a former current one becomes `retired`.

    With `registry` None only the store's own rows are reconciled (one `current` at most, the newest promoted).
    """
    with store.session() as session:
        rows = {row.version: row for row in session.scalars(select(ModelVersion))}
        if registry is not None:
            current = registry.current_version()
            for manifest in registry.versions():
                version = manifest["version"]
                if version not in rows and manifest.get("status") != "broken":
                    rows[version] = ModelVersion(version=version, path=manifest.get("path", ""),
                                                 status="rejected" if manifest["status"] == "rejected"
                                                 else "available", metrics=manifest.get("metrics") or {},
                                                 reason=manifest.get("reason"), created_at=utcnow())
                    session.add(rows[version])
        else:
            promoted = [row for row in rows.values() if row.status == "current"]
            current = max(promoted, key=lambda r: r.promoted_at or r.created_at).version if promoted else None
        for version, row in rows.items():
            if version == current and row.status != "current":
                row.status, row.promoted_at = "current", utcnow()
            elif version != current and row.status == "current":
                row.status = "retired"
