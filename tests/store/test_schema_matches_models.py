"""The migrations build exactly the schema the models describe, on both databases.

The models' column types clean what they write (`store.types`) but must map to the same SQL types as the
migrations created, so swapping a type on the Python side alone never needs a migration, and a real change
without one is caught here.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.models import Base


def ours(name, kind, _parent) -> bool:
    """Only our tables: APScheduler keeps its job table in the same database (and the test database is shared)."""
    return kind != "table" or name in Base.metadata.tables


def test_autogenerate_finds_nothing_to_migrate(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": ours})
        assert compare_metadata(context, Base.metadata) == []
