"""The authorisation matrix, generated from the gateway's declared endpoints so that a new
endpoint cannot be left out: every endpoint is called by every kind of caller — a user of
each standard group, a user holding one admin role alone, a user of another company, the
reseller's staff and no one at all — and must answer as its declared right says.

No token: 401 unless the endpoint is public. A caller the right refuses: 403. Anyone else
gets past authorisation: any status but 401 and 403, and never a 5xx. Path parameters take
sample values and bodies are `{}`, so allowed callers meet 404s and 422s, not real objects
(tenant isolation on real objects is tests/e2e/test_tenant_isolation.py)."""
import uuid

import jwt
import pytest
import requests

from services.common.tokens import context_from_claims
from services.gateway.api import endpoints_of
from services.gateway.rights import ROLES
from services.gateway.service import GatewayService

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Matrix-e2e-2026!"
GROUPS = ("administrators", "power_users", "users", "finance_users")
CALLERS = (*GROUPS, *(f"role:{r}" for r in ROLES), "other_company", "staff", "anonymous")
WITH_BODY = ("POST", "PUT", "PATCH")
ENDPOINTS = endpoints_of(GatewayService)


def activate(system, address, username):
    """Set the password from the set-password email, sign in: (session, caller context)."""
    system.set_password(address, username, PASSWORD)
    return signed_in(system.login(username, PASSWORD)["access_token"])


def signed_in(access_token):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {access_token}"
    # the context the gateway builds from this token (it verifies the signature itself)
    claims = jwt.decode(access_token, options={"verify_signature": False})
    return s, context_from_claims(claims)


def new_company(system, staff, name):
    """(session, caller context) of a new company's administrator."""
    _, info = system.new_company(staff, name, password=PASSWORD)
    return signed_in(system.login(info["username"], PASSWORD)["access_token"])


@pytest.fixture(scope="module")
def callers(system, staff):
    """Every caller of the matrix: name -> (requests.Session, CallerContext or None)."""
    admin, _ = new_company(system, staff, "Matrix")
    wanted = {group: {"groups": [group]} for group in GROUPS}
    # the users group grants nothing, so these hold their one role and nothing else
    wanted.update({f"role:{r}": {"groups": ["users"], "roles": [r]} for r in ROLES})
    made = {}
    for name, rights in wanted.items():
        tag = uuid.uuid4().hex[:8]
        body = {"username": f"m.{tag}", "email": f"m.{tag}@matrix.test", "first_name": "Max",
                "last_name": name, "locale": "en", **rights}
        r = admin.post(system.api + "/company/users", json=body)
        assert r.status_code == 201, r.text
        made[name] = body
    result = {name: activate(system, body["email"], body["username"])
              for name, body in made.items()}
    result["other_company"] = new_company(system, staff, "Elsewhere")
    result["staff"] = signed_in(staff.headers["Authorization"][7:])
    result["anonymous"] = (requests.Session(), None)

    # each caller holds what it should, so the matrix tests what it means to
    for group in GROUPS:
        assert [g["key"] for g in result[group][0].get(system.api + "/me").json()["groups"]] \
            == [group]
    for role in ROLES:
        ctx = result[f"role:{role}"][1]
        assert (ctx.roles, ctx.features) == ([role], [])
    assert set(result["administrators"][1].roles) == set(ROLES)
    assert result["staff"][1].staff and result["staff"][1].company_id is None
    assert result["other_company"][1].company_id not in (None, result["users"][1].company_id)
    return result


def test_every_endpoint_is_in_the_matrix():
    # the gateway declares them all on import; a handful would mean routes went missing
    assert len(ENDPOINTS) >= 60
    assert len({(e.method, e.path) for e in ENDPOINTS}) == len(ENDPOINTS)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_endpoint_answers_as_its_right_says(system, callers, endpoint, caller):
    session, ctx = callers[caller]
    kwargs = {"json": {}} if endpoint.method in WITH_BODY else {}
    r = session.request(endpoint.method, system.url + endpoint.sample_path(), timeout=30,
                        **kwargs)
    what = f"{endpoint.method} {endpoint.path} as {caller}: {r.status_code} {r.text[:300]}"
    if ctx is None and endpoint.right.needs_token:
        assert r.status_code == 401, what
        assert r.json()["code"] == "unauthorized", what
    elif ctx is not None and endpoint.right.needs_token and not endpoint.right.allows(ctx):
        assert r.status_code == 403, what
        assert r.json()["code"] == "forbidden", what
    else:
        assert r.status_code not in (401, 403), what
        assert r.status_code < 500, what
        # the sample path reached the endpoint itself, not the catch-all for unknown paths
        if r.headers.get("Content-Type") == "application/problem+json":
            assert r.json()["code"] != "no_such_endpoint", what
