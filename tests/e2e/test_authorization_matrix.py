"""The authorisation matrix, generated from the gateway's declared endpoints so that a new
endpoint cannot be left out: every endpoint is called by every kind of caller — a user of
each standard group, a user holding one admin role alone, a user of another company, the
reseller's staff and no one at all — and must answer as its declared right says.

No token: 401 unless the endpoint is public. A caller the right refuses: 403. Anyone else
gets past authorisation: any status but 401 and 403, and never a 5xx. Path parameters take
sample values and bodies are `{}`, so allowed callers meet 404s and 422s, not real objects
(tenant isolation on real objects is tests/e2e/test_tenant_isolation.py)."""

import jwt
import pytest
import requests
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.http import HttpEntrypoint, http
from services.common.roles import ROLES
from services.common.tokens import context_from_claims
from services.gateway.api import API_PREFIX, endpoints_of
from services.gateway.rights import Right
from services.gateway.service import GatewayService

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Matrix-e2e-2026!"
GROUPS = ("administrators", "power_users", "users", "finance_users")
CALLERS = (*GROUPS, *(f"role:{r}" for r in ROLES), "other_company", "staff", "anonymous")
WITH_BODY = ("POST", "PUT", "PATCH")
ENDPOINTS = endpoints_of(GatewayService)
# routes under the API that are not endpoints, so have no right to declare
NOT_ENDPOINTS = {"openapi_json": "the OpenAPI document, public like /docs",
                 "unknown_endpoint": "the 404 and 405 of paths no endpoint has"}


def unguarded_routes(service_cls):
    """The HTTP routes under the API that declare no right: not made by `endpoint(...)`,
    or with something other than a Right that says whom it allows."""
    found = []
    for klass in service_cls.__mro__:
        for name, attr in vars(klass).items():
            for entrypoint in getattr(attr, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if not isinstance(entrypoint, HttpEntrypoint) or name in NOT_ENDPOINTS or \
                        not entrypoint.url.startswith(API_PREFIX):
                    continue
                spec = getattr(attr, "endpoint_spec", None)
                right = getattr(spec, "right", None)
                if not isinstance(right, Right) or type(right).allows is Right.allows:
                    found.append(f"{entrypoint.method} {entrypoint.url} ({name})")
    return found


def caller(session):
    """(session, the caller context the gateway builds from its token: it verifies the
    signature itself)."""
    token = session.headers["Authorization"].removeprefix("Bearer ")
    return session, context_from_claims(jwt.decode(token, options={"verify_signature": False}))


@pytest.fixture(scope="module")
def callers(system, staff):
    """Every caller of the matrix: name -> (requests.Session, CallerContext or None)."""
    company = system.new_company(staff, "Matrix", password=PASSWORD)
    wanted = {group: {"groups": [group]} for group in GROUPS}
    # the users group grants nothing, so these hold their one role and nothing else
    wanted.update({f"role:{r}": {"groups": ["users"], "roles": [r]} for r in ROLES})
    users = company.add_users(*({"first_name": "Max", "last_name": name, **rights}
                                for name, rights in wanted.items()))
    result = {name: caller(user["session"]) for name, user in zip(wanted, users)}
    result["other_company"] = caller(system.new_company(staff, "Elsewhere", password=PASSWORD).admin)
    result["staff"] = caller(staff)
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


def test_every_api_route_declares_its_right():
    """A route added under the API without `endpoint(..., right=...)` would be in no matrix
    and guarded by nothing: none is."""
    assert unguarded_routes(GatewayService) == []
    assert {e.name for e in ENDPOINTS} >= {"list_reports", "list_invoices", "approve",
                                          "create_workflow", "list_assets", "list_licenses",
                                          "list_quotes", "subscribe", "punchout_cxml_setup",
                                          "backoffice_create_company"}

    class Careless(GatewayService):
        @http("GET", API_PREFIX + "/secrets")
        def secrets(self, request):
            return "everyone's"

    assert unguarded_routes(Careless) == [f"GET {API_PREFIX}/secrets (secrets)"]


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
            assert r.json()["code"] not in ("no_such_endpoint", "method_not_allowed"), what
