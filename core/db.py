"""Database engine set-up and the one way services open a write transaction.

SQLite: WAL journal, a busy timeout, foreign keys on, and write transactions that
start with BEGIN IMMEDIATE so that two writers queue instead of losing an update
(SQLAlchemy's with_for_update() emits nothing on SQLite). PostgreSQL: plain BEGIN;
services lock rows with `lock()` (SELECT ... FOR NO KEY UPDATE).
"""
from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Engine

from core.extensions import db

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)
T = TypeVar("T")


def utcnow() -> datetime:
    """Naive UTC timestamp (the database stores UTC without zone on both backends)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def configure_engine(engine: Engine, lock_timeout_ms: int = 15000) -> None:
    """Connection settings: how long a statement waits for a lock another transaction
    holds before giving up (then the request answers 503 "busy", see app.py) on both
    backends; SQLite's WAL journal, foreign keys and IMMEDIATE write transactions."""
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
            dbapi_connection.commit()

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling
        # would start deferred transactions behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


# SQLSTATEs of PostgreSQL that mean "another transaction is in the way", not a fault:
# lock_not_available (lock_timeout), deadlock_detected, serialization_failure.
_BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


def is_busy(error: BaseException) -> bool:
    """Did a statement give up waiting for another transaction (SQLite's busy timeout,
    PostgreSQL's lock_timeout or a deadlock)? Nothing was written; trying again helps."""
    orig = getattr(error, "orig", error)
    if getattr(orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(*, expire_on_commit: bool = True, keep: Iterable[object] = ()) -> Iterator[None]:
    """One unit of work: commit on success, roll back everything on any exception.

    Any read transaction the session already has is ended first, so that on SQLite
    the write transaction begins IMMEDIATE (holding the write lock from its first
    statement). Nested calls join the outer transaction.

    `expire_on_commit=False` leaves the session's objects as they are after the commit
    (a rollback still expires them all); the caller then expires what it cannot vouch
    for (workflow.engine.fire keeps only the subject it locked and wrote).

    Ending the read transaction expires what it loaded, so that the write transaction
    decides on current rows, except the objects in `keep` (the acting person with
    their memberships and org nodes, which the request loaded moments ago and which
    the transaction only reads).
    """
    session = db.session()  # the request's Session behind the scoped_session proxy
    if _immediate.get():
        yield
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            # Pending changes outside a write transaction are a programming error.
            session.rollback()
            raise RuntimeError("unflushed changes outside write_transaction()")
        if keep:
            session.expire_on_commit = False
            try:
                session.commit()
            finally:
                session.expire_on_commit = True
            expire_all_except(keep)
        else:
            session.commit()
    token = _immediate.set(True)
    expire = session.expire_on_commit
    session.expire_on_commit = expire_on_commit
    try:
        with session.begin():
            yield
    finally:
        session.expire_on_commit = expire
        _immediate.reset(token)


def expire_all_except(keep: Iterable[object]) -> None:
    """Expire every object in the session but those in `keep` (compared by identity)."""
    kept = {id(obj) for obj in keep}
    session = db.session()
    for state in list(session.identity_map.all_states()):
        if state.expired:
            continue
        obj = state.obj()
        if obj is not None and id(obj) not in kept:
            session.expire(obj)


def in_write_transaction() -> bool:
    """Is a write_transaction() open (so that a nested one joins it and does not commit)?"""
    return _immediate.get()


def lock(model: type[T], ident) -> T | None:
    """Load one row for update inside write_transaction() (FOR NO KEY UPDATE on
    PostgreSQL; on SQLite the IMMEDIATE transaction already holds the database write
    lock). NO KEY: writers of the row still wait for each other, but inserting a row
    that refers to it (a photo of an issue, an import job of an estate) does not wait
    for the transaction holding it - no service ever changes a primary key."""
    return db.session.scalars(_lock_statement(model, not is_sqlite()), {"ident": ident}).first()


@functools.lru_cache(maxsize=None)
def _lock_statement(model: type, for_update: bool):
    """Built once per model: SQLAlchemy then reuses its compiled form without
    rebuilding and hashing the statement on every call."""
    stmt = select(model).where(model.id == bindparam("ident")).execution_options(populate_existing=True)
    # OF the model's own table: PostgreSQL refuses FOR UPDATE over the nullable side of
    # an outer join, which a relationship loaded eagerly (lazy="joined") adds.
    return stmt.with_for_update(of=model, key_share=True) if for_update else stmt
