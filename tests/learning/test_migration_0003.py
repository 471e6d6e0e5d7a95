"""Migration 0003 (drift_checks, alert_states) goes up and down on both databases."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from store.database import Store, alembic_config, upgrade

TABLES = {"drift_checks", "alert_states"}


def test_migration_0003_goes_up_and_down(database_url):
    store = Store(database_url)
    upgrade(store.engine)
    assert TABLES <= set(inspect(store.engine).get_table_names())
    command.downgrade(alembic_config(store.engine), "0002")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    upgrade(store.engine)
    assert TABLES <= set(inspect(store.engine).get_table_names())
    store.dispose()
