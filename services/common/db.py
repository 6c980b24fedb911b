"""The database of one service: engine, messaging tables, and the nameko dependency.

The dependency gives each worker its own SQLAlchemy session. The session is committed (or
rolled back) by our entrypoints *before* the RPC reply is sent or the message is acked (see
`entrypoints.finish_unit_of_work`); nameko's own `worker_result` hook runs too late for that.
"""
import json
import weakref
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import (Column, DateTime, Integer, MetaData, PrimaryKeyConstraint, String, Text,
                        create_engine, event)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from services.common.config import database_url

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class JSONText(TypeDecorator):
    """JSON stored as text: the same on SQLite and PostgreSQL, Decimals as strings."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, default=str, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


def make_base():
    """A declarative base for one service, with the outbox, processed-events and
    idempotency-key tables every service has."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING)

    class OutboxEvent(Base):
        __tablename__ = "outbox_events"
        id = Column(Integer, primary_key=True, autoincrement=True)
        event_id = Column(String(36), nullable=False, unique=True)
        source = Column(String(40), nullable=False)
        type = Column(String(80), nullable=False)
        payload = Column(JSONText, nullable=False)
        request_id = Column(String(64))
        occurred_at = Column(DateTime, nullable=False, default=utcnow)
        sent_at = Column(DateTime, index=True)
        attempts = Column(Integer, nullable=False, default=0)
        next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
        last_error = Column(Text)

    class ProcessedEvent(Base):
        __tablename__ = "processed_events"
        __table_args__ = (PrimaryKeyConstraint("event_id", "handler"),)
        event_id = Column(String(36), nullable=False)
        handler = Column(String(120), nullable=False)
        processed_at = Column(DateTime, nullable=False, default=utcnow)

    class IdempotencyKey(Base):
        __tablename__ = "idempotency_keys"
        __table_args__ = (PrimaryKeyConstraint("scope", "key"),)
        scope = Column(String(120), nullable=False)
        key = Column(String(200), nullable=False)
        request_hash = Column(String(64), nullable=False)
        response = Column(JSONText)
        created_at = Column(DateTime, nullable=False, default=utcnow)

    Base.OutboxEvent = OutboxEvent
    Base.ProcessedEvent = ProcessedEvent
    Base.IdempotencyKey = IdempotencyKey
    return Base


def normalise_url(url: str) -> str:
    # psycopg2 made green by psycogreen: as cooperative as pg8000 and faster on short
    # queries (bench/pg_driver.py); without the wait callback it would stall every worker.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def make_postgres_green():
    import psycogreen.eventlet
    psycogreen.eventlet.patch_psycopg()


def make_engine(url: str, pool_size: int = 10):
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # One connection per process: SQLite's busy wait happens in C and would stall the
        # eventlet hub, so workers queue (greenly) for the connection instead.
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0,
                               pool_timeout=60, connect_args={"check_same_thread": False,
                                                              "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # IMMEDIATE takes the write lock up front: no reader-to-writer upgrade failures
            # between several processes of one service.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    make_postgres_green()
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_recycle=1800)


def session_factory(engine, base):
    return sessionmaker(engine, expire_on_commit=False,
                        info={"outbox_model": base.OutboxEvent, "base": base})


def open_session(service: str, base, url: str | None = None):
    """A session outside nameko (CLI, seeding, tests); the caller commits."""
    return session_factory(make_engine(url or database_url(service)), base)()


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


class Database(DependencyProvider):
    """`db = Database("orders", Base)`: a SQLAlchemy session per worker."""

    def __init__(self, service: str, base):
        self.service = service
        self.base = base
        self.engine = None
        self.sessions = weakref.WeakKeyDictionary()
        self.after_commit_hooks = []

    def setup(self):
        self.engine = make_engine(database_url(self.service))
        self.session_factory = session_factory(self.engine, self.base)

    def stop(self):
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        session = self.session_factory()
        self.sessions[worker_ctx] = session
        return session

    def finish(self, worker_ctx, exc_info):
        """Commit on success, roll back on failure; a failed commit becomes the worker's error."""
        session = self.sessions.get(worker_ctx)
        if session is None:
            return exc_info
        if exc_info is not None:
            session.rollback()
            return exc_info
        try:
            # set by outbox.emit (or any writer whose background worker should wake up)
            wrote_events = bool(session.info.pop("after_commit", False))
            session.commit()
        except Exception:
            import sys
            session.rollback()
            return sys.exc_info()
        if wrote_events:
            for hook in self.after_commit_hooks:
                hook()
        return None

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()
