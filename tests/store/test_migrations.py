"""Each later migration goes up and down on both databases, leaving the earlier schema intact."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from store.database import Store, alembic_config, upgrade


@pytest.mark.parametrize("down_to, tables", [
    ("0001", {"rate_budgets", "backfill_cursors"}),  # 0002
    ("0002", {"drift_checks", "alert_states"}),  # 0003
])
def test_a_migration_goes_up_and_down(database_url, down_to, tables):
    store = Store(database_url)
    upgrade(store.engine)
    assert tables <= set(inspect(store.engine).get_table_names())
    command.downgrade(alembic_config(store.engine), down_to)
    remaining = set(inspect(store.engine).get_table_names())
    assert not tables & remaining and {"deliveries"} <= remaining
    upgrade(store.engine)
    assert tables <= set(inspect(store.engine).get_table_names())
    store.dispose()
