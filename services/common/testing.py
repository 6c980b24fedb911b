"""Test fixtures shared by every service's tests (loaded as a pytest plugin by the root
conftest). Storage tests run on the database named by PROCURA_TEST_DB (`sqlite` or
`postgresql`); `make test` runs the suite once on each. Nothing here mocks a service."""
import os
import uuid

import pytest

from services.common.config import DATA_SERVICES, nameko_config

PG_ADMIN_URL = os.environ.get("PROCURA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def test_db_kind():
    return os.environ.get("PROCURA_TEST_DB", "sqlite")


def _pg_admin():
    import pg8000.native
    rest = PG_ADMIN_URL.split("://", 1)[1]
    user, hostpart = rest.split("@", 1)
    host, db = hostpart.split("/", 1)
    host, port = host.split(":") if ":" in host else (host, "5432")
    return pg8000.native.Connection(user=user, host=host, port=int(port), database=db), \
        f"postgresql://{user}@{host}:{port}"


def create_database(service, tmp_path):
    """A fresh, empty database for one service; returns (url, drop)."""
    if test_db_kind() == "postgresql":
        name = f"procura_test_{service}_{uuid.uuid4().hex[:10]}"
        conn, base = _pg_admin()
        conn.run(f'CREATE DATABASE "{name}"')
        conn.close()

        def drop():
            c, _ = _pg_admin()
            c.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.close()
        return f"{base}/{name}", drop
    return f"sqlite:///{tmp_path / (service + '.db')}", lambda: None


def migrated_database(service, tmp_path):
    from services.common.migrations import upgrade
    url, drop = create_database(service, tmp_path)
    upgrade(service, url)
    return url, drop


@pytest.fixture
def databases(tmp_path, monkeypatch):
    """Fresh migrated databases for every service, wired through <SERVICE>_DATABASE_URL."""
    drops = []
    urls = {}
    for service in DATA_SERVICES:
        url, drop = migrated_database(service, tmp_path)
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", url)
        urls[service] = url
        drops.append(drop)
    yield urls
    from sqlalchemy.pool import _refs  # noqa: F401  (engines are disposed by containers)
    for drop in drops:
        drop()


@pytest.fixture
def session_factory(tmp_path):
    """`session_factory("orders", Base)` → a session on a fresh migrated database."""
    from services.common.db import open_session
    opened, drops = [], []

    def make(service, base):
        url, drop = migrated_database(service, tmp_path)
        drops.append(drop)
        session = open_session(service, base, url)
        opened.append(session)
        return session
    yield make
    for session in opened:
        session.close()
        session.get_bind().dispose()
    for drop in drops:
        drop()


@pytest.fixture
def procura_env(rabbit_config, tmp_path, monkeypatch):
    """Environment for services in nameko containers: the test's own vhost, fast retries,
    a private var/ directory, no metrics server."""
    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    monkeypatch.setenv("PROCURA_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("EVENT_RETRY_DELAYS", "0.2,0.4")
    monkeypatch.setenv("OUTBOX_RELAY_INTERVAL", "0.2")
    monkeypatch.setenv("METRICS_DISABLED", "1")
    monkeypatch.setenv("RPC_TIMEOUT", "5")
    return rabbit_config


@pytest.fixture
def service_config(procura_env):
    def make(service):
        config = nameko_config(service)
        config["AMQP_URI"] = procura_env["AMQP_URI"]
        config.pop("LOGGING", None)
        return config
    return make


@pytest.fixture
def start_service(container_factory, service_config):
    """Start one service class in a nameko container, after declaring its queues."""
    from services.common.entrypoints import declare_topology

    def start(service_cls, **overrides):
        declare_topology([service_cls])
        config = service_config(service_cls.name)
        config.update(overrides)
        container = container_factory(service_cls, config)
        container.start()
        return container
    return start


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    import time

    import eventlet
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
