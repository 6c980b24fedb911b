"""The pytest fixtures every test folder may use (loaded by the root conftest)."""
import os
import secrets

import pytest

from services.common.config import SERVICES, nameko_config
from tests.support import databases
from tests.support.databases import migrated_database


def pytest_configure(config):
    databases.QUICK_COMMITS = True


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
    a private var/ directory, no metrics server, the tests' signing keys
    (tests/support/tokens.py)."""
    from tests.support.tokens import RING_JSON, trust_test_keys
    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    # identity signs with the tests' key ring; services here know its public key
    monkeypatch.setenv("IDENTITY_SIGNING_KEYS", RING_JSON)
    monkeypatch.delenv("IDENTITY_SIGNING_KEYS_FILE", raising=False)
    trust_test_keys()
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
def broker_users():
    """Users the test made on the broker, deleted once its containers have stopped (this
    fixture is set up before nameko's container_factory, so torn down after it)."""
    from services.common.broker_access import Management
    from tests.support.broker import AUTH, MGMT
    management, made = Management(MGMT, *AUTH), []
    yield management, made
    for user in made:
        management.delete_user(user)


@pytest.fixture
def start_service(broker_users, container_factory, service_config, procura_env, monkeypatch):
    """Start one service class in a nameko container, after declaring its queues as the
    broker administrator (as `procura migrate` does), logged in to RabbitMQ as its own user
    with its own permissions (as `make run` starts it): each of Procura's services; a test's
    own stand-ins (which may publish other services' events) stay the administrator unless
    `own_user=True`."""
    from services.common.broker import declare_topology
    from services.common.broker_access import event_sources_of, permissions, service_uri
    management, made = broker_users

    def own_uri(service_cls):
        variable = f"{service_cls.name.upper()}_AMQP_URI"
        user = f"{procura_env['vhost']}-{service_cls.name}"
        if user not in made:
            password = secrets.token_urlsafe(12)
            management.put_user(user, password)
            management.put_permissions(procura_env["vhost"], user, permissions(
                service_cls.name, event_sources_of(service_cls)))
            made.append(user)
            # the other services here know it as this service's user
            monkeypatch.setenv(variable, service_uri(procura_env["AMQP_URI"], user, password))
        return os.environ[variable]

    def start(service_cls, own_user=None, **overrides):
        declare_topology([service_cls])
        config = service_config(service_cls.name)
        if own_user is None:
            own_user = service_cls.name in SERVICES
        if own_user and "AMQP_URI" not in overrides:
            config["AMQP_URI"] = own_uri(service_cls)
        config.update(overrides)
        container = container_factory(service_cls, config)
        container.start()
        return container
    return start
