"""Fixtures shared by the integration tests."""
import os
import subprocess

import pytest

from services.catalog.service import CatalogService
from services.common.engines import open_session
from services.gateway.service import GatewayService
from services.identity import demo as identity_demo
from services.identity.models import Base as IdentityBase
from services.identity.service import IdentityService
from tests.integration.messaging_services import Base as MessagingBase
from tests.support.broker import new_vhost
from tests.support.databases import create_database, migrated_database
from tests.support.system import BIN, ROOT, free_port, sign_in
from tests.support.tokens import RING_JSON


@pytest.fixture
def api(tmp_path, monkeypatch, start_service):
    """identity, catalog and the gateway in their own containers on the real broker, with
    identity's demo company and users (staff, demo.admin, demo.buyer, …); `login(username)`
    gives a requests session with that user's token."""
    drops = []
    for service in ("identity", "catalog"):
        url, drop = migrated_database(service, tmp_path)
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", url)
        drops.append(drop)
        if service == "identity":
            session = open_session("identity", IdentityBase, url)
            people = identity_demo.seed(session)
            session.close()
            session.get_bind().dispose()
    port = free_port()
    start_service(IdentityService)
    start_service(CatalogService)
    gateway = start_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}/api/v1"

    def login(username):
        return sign_in(base, username, identity_demo.DEMO_PASSWORD)

    yield {"base": base, "login": login, "gateway": gateway,
           "company_id": people["company_id"], "users": people["users"]}
    for drop in drops:
        drop()


CLUSTER_SERVICES = ("orders", "catalog", "approvals", "reporting", "identity")


@pytest.fixture
def cluster(tmp_path):
    """Real `procura serve` processes on the real broker, on private databases and a private
    vhost, started (and killed, and started again) by the test through `start(service)`;
    identity starts with the first other service (everyone needs its keys)."""
    vhost, drop_vhost = new_vhost()
    env = dict(os.environ, PROCURA_VAR=str(tmp_path), METRICS_DISABLED="1",
               AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
               EVENT_RETRY_DELAYS="0.3,0.6", OUTBOX_RELAY_INTERVAL="0.2",
               # identity signs with the tests' ring, so a test's tokens are good
               IDENTITY_SIGNING_KEYS=RING_JSON)
    drops = []
    for service in CLUSTER_SERVICES:
        url, drop = migrated_database(service, tmp_path)
        env[f"{service.upper()}_DATABASE_URL"] = url
        drops.append(drop)
    from services.catalog import demo
    from services.catalog.models import Base as CatalogBase
    with open_session("catalog", CatalogBase, env["CATALOG_DATABASE_URL"]) as session:
        parts = demo.seed(session, 1, 50)["part_numbers"]
        session.commit()
    subprocess.run([str(BIN / "procura"), "declare-queues"], env=env, check=True, cwd=ROOT,
                   capture_output=True)
    procs = {}

    def start(service, **extra):
        if service != "identity" and "identity" not in procs:
            # every service verifies tokens with identity's keys and asks it for its own
            # (it starts beside the others: they ask when a call first comes)
            start("identity")
        log = open(tmp_path / f"{service}.log", "ab")
        procs[service] = subprocess.Popen([str(BIN / "procura"), "serve", service],
                                          env={**env, **extra}, cwd=ROOT, stdout=log,
                                          stderr=subprocess.STDOUT)
        return procs[service]

    yield {"env": env, "start": start, "parts": parts, "procs": procs, "tmp": tmp_path}
    # the test is over: no need to wait for a graceful stop (tests that stop a service
    # gracefully do it themselves)
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
    for proc in procs.values():
        proc.wait()
    drop_vhost()
    for drop in drops:
        drop()


@pytest.fixture
def messaging_dbs(tmp_path, monkeypatch):
    """Databases for the test publisher and subscriber of messaging_services.py."""
    from services.common.engines import make_engine
    drops = []
    for name in ("testpub", "testsub"):
        url, drop = create_database(name, tmp_path)
        engine = make_engine(url)
        MessagingBase.metadata.create_all(engine)
        engine.dispose()
        monkeypatch.setenv(f"{name.upper()}_DATABASE_URL", url)
        drops.append(drop)
    yield
    for drop in drops:
        drop()
