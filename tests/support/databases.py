"""Fresh databases for tests and benchmarks. Storage tests run on the database named by
PROCURA_TEST_DB (`sqlite` or `postgresql`); `make test` runs the suite once on each."""
import os
import uuid

PG_ADMIN_URL = os.environ.get("PROCURA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def db_kind():
    return os.environ.get("PROCURA_TEST_DB", "sqlite")


def _pg_run(sql):
    import psycopg2
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_database(service, tmp_path):
    """A fresh, empty database for one service; returns (url, drop)."""
    if db_kind() == "postgresql":
        name = f"procura_test_{service}_{uuid.uuid4().hex[:10]}"
        _pg_run(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}", lambda: _pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"sqlite:///{tmp_path / (service + '.db')}", lambda: None


def migrated_database(service, tmp_path):
    """`create_database`, upgraded to the service's latest migration; returns (url, drop)."""
    from services.common.migrations import upgrade
    url, drop = create_database(service, tmp_path)
    upgrade(service, url)
    return url, drop


def outbox_payloads(session, event_type=None):
    """The payloads a session's service wrote to its outbox, oldest first."""
    from sqlalchemy import select
    model = session.info["base"].OutboxEvent
    query = select(model).order_by(model.id)
    if event_type:
        query = query.where(model.type == event_type)
    return [row.payload for row in session.scalars(query)]
