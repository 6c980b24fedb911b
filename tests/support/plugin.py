"""The pytest fixtures every test folder may use (loaded by the root conftest)."""
import pytest

from services.common.config import nameko_config
from tests.support.databases import migrated_database


@pytest.fixture
def session_factory(tmp_path):
    """`session_factory("orders", Base)` → a session on a fresh migrated database."""
    from services.common.engines import open_session
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
    from services.common.broker import declare_topology

    def start(service_cls, **overrides):
        declare_topology([service_cls])
        config = service_config(service_cls.name)
        config.update(overrides)
        container = container_factory(service_cls, config)
        container.start()
        return container
    return start
