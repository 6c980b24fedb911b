"""Fresh databases for tests and benchmarks. Storage tests run on the database named by
PROCURA_TEST_DB (`sqlite` or `postgresql`); `make test` runs the suite once on each.

A migrated database is a copy of a template migrated once per test process and service
(PostgreSQL: `CREATE DATABASE ... TEMPLATE`; SQLite: a copy of the migrated file): the same
tables as running every migration again, without running Alembic for every test."""
import atexit
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

PG_ADMIN_URL = os.environ.get("PROCURA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_templates = {}  # (kind, service) -> template database name (PostgreSQL) or file (SQLite)
# set by the tests' plugin: the tests' PostgreSQL databases commit without waiting for the
# disk (benchmarks, which import this module without it, measure durable commits)
QUICK_COMMITS = False


def db_kind():
    return os.environ.get("PROCURA_TEST_DB", "sqlite")


def _pg_run(*statements):
    import psycopg2
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


class _Dropper:
    """Drops PostgreSQL databases in a thread of its own (a real one, also where eventlet has
    patched threading), so that a test's teardown does not wait for PostgreSQL to remove a
    database's files; `finish()` waits for every drop asked so far."""

    def __init__(self):
        self.thread, self.errors = None, []

    def drop(self, name):
        from eventlet import patcher
        if self.thread is None:
            self.queue = patcher.original("queue").Queue()
            self.thread = patcher.original("threading").Thread(
                target=self._run, name="drop-test-databases", daemon=True)
            self.thread.start()
            atexit.register(self.finish)  # after the templates' drops: atexit runs LIFO
        self.queue.put(name)

    def _run(self):
        while True:
            name = self.queue.get()
            try:
                _pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # reported, as a synchronous drop's failure would be
                self.errors.append(f"could not drop test database {name}: {exc}")
            finally:
                self.queue.task_done()

    def finish(self):
        if self.thread is not None:
            self.queue.join()
        for error in self.errors:
            print(error, file=sys.stderr)
        self.errors.clear()


_dropper = _Dropper()


def _pg_url(name):
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _pg_create(service, template=None):
    """A new PostgreSQL database (a copy of `template` if given); returns (url, drop). With
    QUICK_COMMITS its commits do not wait for the disk (synchronous_commit off: only a crash
    of the PostgreSQL server could lose the last ones, and no test crashes it)."""
    name = f"procura_test_{service}_{uuid.uuid4().hex[:10]}"
    statements = [f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")]
    if QUICK_COMMITS:
        statements.append(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    _pg_run(*statements)
    return _pg_url(name), lambda: _dropper.drop(name)


def create_database(service, tmp_path):
    """A fresh, empty database for one service; returns (url, drop)."""
    if db_kind() == "postgresql":
        return _pg_create(service)
    return f"sqlite:///{tmp_path / (service + '.db')}", lambda: None


def _template(service):
    """The migrated template of `service` for this process, made at its first use."""
    from services.common.migrations import upgrade
    kind = db_kind()
    if (kind, service) not in _templates:
        if kind == "postgresql":
            url, _ = _pg_create(f"template_{service}")
            upgrade(service, url)  # Alembic's engine is disposed: nobody stays connected
            name = url.rsplit("/", 1)[1]
            atexit.register(_pg_run, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _templates[kind, service] = url.rsplit("/", 1)[1]
        else:
            folder = Path(tempfile.mkdtemp(prefix="procura-templates-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            upgrade(service, f"sqlite:///{folder / (service + '.db')}")
            _templates[kind, service] = folder / (service + ".db")
    return _templates[kind, service]


def migrated_database(service, tmp_path):
    """A fresh database for one service at its latest migration; returns (url, drop)."""
    template = _template(service)
    if db_kind() == "postgresql":
        return _pg_create(service, template)
    url, drop = create_database(service, tmp_path)
    path = tmp_path / (service + ".db")
    if not path.exists():  # the same service twice in one test: its one database, as before
        shutil.copyfile(template, path)
    return url, drop


def outbox_payloads(session, event_type=None):
    """The payloads a session's service wrote to its outbox, oldest first."""
    from sqlalchemy import select
    model = session.info["base"].OutboxEvent
    query = select(model).order_by(model.id)
    if event_type:
        query = query.where(model.type == event_type)
    return [row.payload for row in session.scalars(query)]
