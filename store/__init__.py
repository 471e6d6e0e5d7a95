"""The durable store (SQLAlchemy 2, Alembic): the source of truth; queues carry only ids."""
