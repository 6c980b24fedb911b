"""SQLAlchemy engines and sessions for SQLite and PostgreSQL, the same in a service, a
command-line tool or a test."""
import time

from sqlalchemy import create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from services.common.config import database_url
from services.common.errors import nul_character


def normalise_url(url: str) -> str:
    # psycopg2 made green by psycogreen: as cooperative as pg8000 and faster on short
    # queries (bench/pg_driver.py); without the wait callback it would stall every worker.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def make_postgres_green():
    import psycogreen.eventlet
    psycogreen.eventlet.patch_psycopg()


def refuse_nul(conn, cursor, statement, parameters, context, executemany):
    """PostgreSQL keeps no NUL character in text (psycopg2 refuses the statement, a 500):
    on either database a value holding one is bad input, a 422, before the statement runs."""
    # one row or many, as a mapping or a sequence, whichever the dialect and statement use
    pending = [parameters]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise nul_character()
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)


def make_engine(url: str, pool_size: int = 10):
    url = normalise_url(url)
    engine = _make_engine(url, pool_size)
    event.listen(engine, "before_cursor_execute", refuse_nul)
    return engine


def _make_engine(url: str, pool_size: int):
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
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 2.0  # seconds


def ping_when_idle(engine):
    """Check a pooled PostgreSQL connection before use only when it has been idle for
    PING_AFTER_IDLE seconds (a server restart or an idle timeout may have closed it), not
    on every checkout as `pool_pre_ping` does: that round trip came with every transaction,
    half of a checkout's statements. A connection closed while busy fails its statement
    once; SQLAlchemy then replaces every pooled connection."""
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as exc:
            # the pool drops this connection and checks out another (or opens one)
            raise DisconnectionError(f"pooled connection closed while idle: {exc}") from exc


def session_factory(engine, base):
    return sessionmaker(engine, expire_on_commit=False,
                        info={"outbox_model": base.OutboxEvent, "base": base})


def open_session(service: str, base, url: str | None = None):
    """A session outside nameko (CLI, seeding, tests); the caller commits."""
    return session_factory(make_engine(url or database_url(service)), base)()


def dialect_insert(session):
    """The `insert` of the session's database, which has `on_conflict_do_nothing` and
    `on_conflict_do_update` (both SQLite and PostgreSQL say `ON CONFLICT`)."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
