"""Fixtures shared by the integration tests."""
import pytest
import requests

from services.catalog.service import CatalogService
from services.common.engines import open_session
from services.common.testing import free_port, migrated_database
from services.gateway.api import TokenKeys
from services.gateway.service import GatewayService
from services.identity import demo as identity_demo
from services.identity.models import Base as IdentityBase
from services.identity.service import IdentityService


@pytest.fixture
def api(tmp_path, monkeypatch, start_service):
    """identity, catalog and the gateway in their own containers on the real broker, with
    identity's demo company and users (staff, demo.admin, demo.buyer, …); `login(username)`
    gives a requests session with that user's token."""
    # each test's identity signs with new keys: forget those of an earlier test
    monkeypatch.setattr(TokenKeys, "keys", {})
    monkeypatch.setattr(TokenKeys, "last_fetch", 0.0)
    monkeypatch.setattr(TokenKeys, "revoked_before", {})
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
        r = requests.post(base + "/auth/login", json={"username": username,
                                                      "password": identity_demo.DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        s = requests.Session()
        s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        return s

    yield {"base": base, "login": login, "gateway": gateway,
           "company_id": people["company_id"], "users": people["users"]}
    for drop in drops:
        drop()
