"""Engine, sessions and schema migrations for the store: one code path for SQLite and PostgreSQL."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Web threads, worker threads and other processes share the file: WAL lets readers run beside
        # the one writer, and busy_timeout makes a writer wait instead of failing with "database is locked".
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # 10 pooled connections cover a web process's 8 app threads (TRIAGE_WEB_THREADS) without opening any
    # per request. A connection idle for a while is pinged before use (a restarted server or a proxy's idle
    # timeout closed it), but not one that served a request a moment ago: under load that ping would be one
    # more round trip on every acknowledgement. synchronous_commit stays on: an acknowledged delivery is on disk.
    engine = create_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", lambda connection, record, _proxy: _ping_if_idle(engine, connection, record))
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def _note_idle_since(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection, record) -> None:
    """The pre-ping, for a connection idle more than `PING_AFTER_IDLE_SECONDS`; a dead one is replaced (the
    pool discards it and checks out another on `DisconnectionError`)."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # just opened, or in use a moment ago
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(f"an idle connection to the store was closed ({type(exc).__name__})") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    """Take the write lock at BEGIN: a read-then-write transaction in WAL mode otherwise fails at once
    with "database is locked" when another writer committed in between (busy_timeout cannot help)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The engine and a session factory; `session()` commits on success and rolls back on error."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")  # the same pool

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection for writes that one statement makes whole: on PostgreSQL in autocommit, so each
        statement is its own transaction, durable when it returns, with no BEGIN or COMMIT round trip. SQLite
        takes its writer lock at BEGIN (`_sqlite_begin_immediate`), so there it is one transaction, committed
        at the end."""
        if self.engine.dialect.name != "postgresql":
            with self.engine.begin() as connection:
                yield connection
            return
        with self._autocommit_engine.connect() as connection:
            yield connection

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (what `triage db upgrade` and `triage serve` run)."""
    command.upgrade(alembic_config(engine), revision)
