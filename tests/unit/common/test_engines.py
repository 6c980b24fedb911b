"""A pooled PostgreSQL connection is checked before use only after it has been idle
(services/common/engines.py, `ping_when_idle`): one closed while idle is replaced without
an error; one closed while in use fails one statement, then the pool starts afresh."""
import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.common import engines
from tests.support.databases import PG_ADMIN_URL, create_database, db_kind
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(db_kind() != "postgresql",
                                reason="the pool's checks are PostgreSQL's")


@pytest.fixture
def engine(tmp_path):
    url, drop = create_database("pool", tmp_path)
    engine = engines.make_engine(url, pool_size=1)
    yield engine
    engine.dispose()
    drop()


def backend_pid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def terminate(pid):
    """End a server process, and wait until it is gone (the signal is asynchronous)."""
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

            def gone():
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                return cur.fetchone()[0] == 0
            wait_for(gone, message=f"server process {pid} to end")
    finally:
        conn.close()


def test_a_connection_closed_while_idle_is_replaced_before_use(engine, monkeypatch):
    monkeypatch.setattr(engines, "PING_AFTER_IDLE", 0.0)
    first = backend_pid(engine)
    terminate(first)
    assert backend_pid(engine) not in (None, first)


def test_a_connection_used_again_at_once_is_not_pinged(engine, monkeypatch):
    monkeypatch.setattr(engines, "PING_AFTER_IDLE", 3600.0)
    first = backend_pid(engine)
    terminate(first)
    # no check before this use: the statement meets the closed connection
    with pytest.raises(OperationalError):
        backend_pid(engine)
    # and the pool has let it go
    assert backend_pid(engine) not in (None, first)
