"""The API contract, checked by schemathesis on the running system.

Every operation of the OpenAPI document the gateway serves (`GET /api/v1/openapi.json`) is
called with generated inputs, valid and invalid, as four callers: a buyer, a company
administrator, the reseller's staff and no one at all. A reply fails the test when it is a
5xx, when its status, content type or body is not what the document says, when schema-valid
input is refused or schema-invalid input accepted, and when a method the path does not have
is not a 405 with an `Allow` header listing the path's methods. tests/support/api_contract.py
runs schemathesis' engine (in processes of its own, four at a time) and says which refusals
of valid input the state or a business rule explains.

Each operation is explored by the caller its declared right is for (public: no one; staff;
any company user: the buyer; a role or feature: the administrator) with random inputs, and
in one of the two passes of `make test` (half the operations on SQLite, the other half on
PostgreSQL: the document is the same on both) with the invalid values of each of its
parameters and fields and the methods its path does not have. The other callers send it
one input each (their refusals are the authorisation matrix's business,
tests/e2e/test_authorization_matrix.py). Callers work in companies of their own, on
objects made for the run where a path names one, so that what one changes (its password,
its users, a company's configuration) touches no other caller and no other test. The seed
is fixed: a run sends the same requests each time.
"""
import json
import subprocess
import time
import uuid

import jwt
import pytest
import requests
from marshmallow import Schema

from services.common.tokens import context_from_claims
from services.gateway.api import endpoints_of
from services.gateway.rights import STAFF
from services.gateway.service import GatewayService
from tests.support.databases import db_kind
from tests.support.system import BIN, ROOT, STAFF_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Contract-e2e-2026!"
IDENTITIES = ("buyer", "admin", "staff", "anonymous")
MAX_EXAMPLES = 4  # random inputs per operation, valid and invalid
SEED = 20261130
RUNS = 4  # engine runs at a time
OPERATIONS_PER_RUN = 12
ENDPOINTS = endpoints_of(GatewayService)
# what schema-valid input may get: 410, a link token that was used or never sent; 422, see
# tests/support/api_contract.py
ACCEPTABLE = ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]
CXML = ["punchout_cxml_setup", "punchout_cxml_order"]


def weight(schema) -> int:
    """About how many invalid values the coverage phase makes for a schema: a few per field."""
    if schema is None:
        return 0
    total = 0
    for field in schema.fields.values():
        total += 1
        nested = getattr(field, "inner", field)  # a List's items
        if isinstance(getattr(nested, "schema", None), Schema):
            total += weight(nested.schema)
    return total


def coverage_halves():
    """operationId -> 0 or 1, the pass (SQLite, PostgreSQL) whose coverage phase takes it:
    heaviest first, each to the lighter half, so both passes take about as long."""
    halves, load = {}, [0, 0]
    for e in sorted(ENDPOINTS, key=lambda e: (-(weight(e.body) + weight(e.query)), e.name)):
        half = 0 if load[0] <= load[1] else 1
        halves[e.name] = half
        load[half] += 2 + weight(e.body) + weight(e.query)
    return halves


def explorer(endpoint, buyer_ctx):
    """The caller that explores an endpoint: the one its right is for."""
    right = endpoint.right
    if not right.needs_token:
        return "anonymous"
    if right is STAFF:
        return "staff"
    return "buyer" if right.allows(buyer_ctx) else "admin"


def _company(system, staff, name):
    """A new company made by staff: (its id, its administrator's signed-in session)."""
    tag = uuid.uuid4().hex[:8]
    admin = {"username": f"admin.{tag}", "email": f"admin.{tag}@contract.test",
             "first_name": "Ada", "last_name": name, "locale": "en"}
    r = staff.post(system.api + "/backoffice/companies", json={
        "name": f"{name} {tag}", "customer_number": f"K{tag}", "currency": "CAD",
        "admin": admin})
    assert r.status_code == 201, r.text
    system.set_password(admin["email"], admin["username"], PASSWORD)
    return r.json()["id"], system.session(admin["username"], PASSWORD)


def _user(system, admin, **rights):
    """A new user of the admin's company, signed in: (id, access token)."""
    tag = uuid.uuid4().hex[:8]
    body = {"username": f"c.{tag}", "email": f"c.{tag}@contract.test", "first_name": "Cleo",
            "last_name": "Contract", "locale": "en", **rights}
    r = admin.post(system.api + "/company/users", json=body)
    assert r.status_code == 201, r.text
    system.set_password(body["email"], body["username"], PASSWORD)
    return r.json()["id"], system.login(body["username"], PASSWORD)["access_token"]


@pytest.fixture(scope="module")
def callers(system):
    """identity -> (access token or None, {operationId: path parameters} for the
    operations it explores)."""
    tag = uuid.uuid4().hex[:8]
    system.cli("create-staff", f"contract.staff.{tag}", input=STAFF_PASSWORD + "\n")
    staff = system.session(f"contract.staff.{tag}", STAFF_PASSWORD)
    _, admin = _company(system, staff, "Contract")
    _, buyers_admin = _company(system, staff, "Buyers")
    sandbox, _ = _company(system, staff, "Sandbox")
    _, buyer = _user(system, buyers_admin, groups=["users"])
    # the administrator changes and deletes these, never itself
    spare_user, _ = _user(system, admin, groups=["users"])
    r = admin.post(system.api + "/company/groups", json={
        "key": f"spare_{tag}", "name": f"Spare {tag}", "roles": [], "features": []})
    assert r.status_code == 201, r.text
    return {
        "buyer": (buyer, {}),
        "admin": (admin.headers["Authorization"][7:], {
            "get_company_user": {"id": spare_user}, "update_company_user": {"id": spare_user},
            "update_company_group": {"id": r.json()["id"]},
            "delete_company_group": {"id": r.json()["id"]}}),
        # staff change the sandbox company only, never the demo company other tests use
        "staff": (staff.headers["Authorization"][7:], {
            e.name: {name: sandbox for name in ("id", "company_id") if f":{name}>" in e.path}
            for e in ENDPOINTS if e.right is STAFF and "company" in e.path}),
        "anonymous": (None, {}),
    }


def engine_config(system, token, pinned, light=(), uncovered=()):
    """The engine's configuration for one caller: `pinned` path parameters by operation,
    `light` operations sent one input, `uncovered` ones without the coverage phase."""
    settings = {name: {"parameters": {f"path.{k}": v for k, v in values.items()}}
                for name, values in pinned.items() if values}
    # a cXML document follows cXML's DTD, which JSON Schema cannot say: a string the
    # document allows may well be a 400 (tests/e2e/test_punchout.py sends real ones)
    for name in CXML:
        settings.setdefault(name, {})["checks"] = {"positive_data_acceptance": {
            "expected-statuses": [*ACCEPTABLE, "400"]}}
    for name in (*light, *uncovered):
        settings.setdefault(name, {})["phases"] = {"coverage": {"enabled": False}}
    for name in light:
        settings[name]["generation"] = {"max-examples": 1}
    operations = [{"include-operation-id": name, **values} for name, values in settings.items()]
    return {
        "seed": SEED,
        "base-url": system.url,
        "workers": 1,
        "request-timeout": 60,
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none",
                       "no-shrink": True},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTABLE}},
        # OPTIONS: the Allow header; TRACE: a 405 with it, at every path (tests/unit/gateway/
        # test_routing.py tries every method)
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False},
                   "coverage": {"unexpected-methods": ["options", "trace"],
                                "generation": {"mode": "negative"}}},
        "operations": operations,
    }


def run_engine(plans, folder):
    """Run the engine once per plan, RUNS at a time, longest first; the runs' results in the
    plans' order."""
    order = sorted(range(len(plans)), key=lambda i: -len(plans[i]["operations"]) * (
        1 if plans[i]["explore"] else 0.05))
    pending, running, results = list(order), {}, {}
    while pending or running:
        while pending and len(running) < RUNS:
            i = pending.pop(0)
            plan, out = folder / f"plan-{i}.json", folder / f"result-{i}.json"
            plan.write_text(json.dumps(plans[i]))
            with plan.open() as stdin, out.open("w") as stdout:
                running[i] = subprocess.Popen(
                    [str(BIN / "python"), "-m", "tests.support.api_contract"], cwd=ROOT,
                    stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, text=True)
        i, proc = next(iter(running.items()))
        _, err = proc.communicate(timeout=600)
        del running[i]
        assert proc.returncode == 0, err[-3000:]
        results[i] = json.loads((folder / f"result-{i}.json").read_text())
    return [results[i] for i in range(len(plans))]


@pytest.fixture(scope="module")
def runs(system, callers, tmp_path_factory):
    """Every caller's runs, all of them at once: identity -> the runs' results."""
    buyer_ctx = context_from_claims(jwt.decode(callers["buyer"][0],
                                               options={"verify_signature": False}))
    url, plans = system.api + "/openapi.json", []
    half, halves = (0 if db_kind() == "sqlite" else 1), coverage_halves()
    for identity in IDENTITIES:
        token, pinned = callers[identity]
        explored = [e.name for e in ENDPOINTS if explorer(e, buyer_ctx) == identity]
        light = [e.name for e in ENDPOINTS if e.name not in explored]
        # the coverage phase checks the document, the same on either database: each pass
        # takes half the operations through it (fuzzing takes them all in both passes)
        uncovered = [name for name in explored if halves[name] != half]
        count = max(1, round(len(explored) / OPERATIONS_PER_RUN))
        plans += [{"identity": identity, "explore": True, "openapi_url": url,
                   "operations": explored[i::count],
                   "config": engine_config(system, token, pinned, uncovered=uncovered)}
                  for i in range(count)]
        plans.append({"identity": identity, "explore": False, "openapi_url": url,
                      "operations": light, "config": engine_config(system, token, {}, light)})
    started = time.monotonic()
    results = run_engine(plans, tmp_path_factory.mktemp("api-contract"))
    print(f"api contract: {sum(r['cases'] for r in results)} requests, {len(plans)} runs, "
          f"{time.monotonic() - started:.0f} s")
    by_identity = {identity: [] for identity in IDENTITIES}
    for plan, result in zip(plans, results):
        by_identity[plan["identity"]].append(result)
    return by_identity


def describe(failure):
    return (f"{failure['operation']}: {failure['title']}\n    {failure['message']}\n"
            f"    -> {failure['status']} {failure['reply']}\n    {failure['curl']}")


@pytest.mark.parametrize("identity", IDENTITIES)
def test_api_contract(runs, identity):
    results = runs[identity]
    problems = [e for r in results for e in r["errors"]] + \
        [describe(f) for r in results for f in r["failures"]]
    assert not problems, f"{len(problems)} failures:\n" + "\n".join(problems)
    assert sum(r["cases"] for r in results) > len(ENDPOINTS)  # every operation was called


def test_an_idempotency_key_longer_than_services_keep_is_a_422(system, callers):
    """On either database (PostgreSQL would refuse it in the middle of the command, SQLite
    keep it), and on an endpoint that keeps no key as on one that does."""
    buyer, staff = (requests.Session(), requests.Session())
    buyer.headers["Authorization"] = f"Bearer {callers['buyer'][0]}"
    staff.headers["Authorization"] = f"Bearer {callers['staff'][0]}"
    calls = ((buyer, "/orders", {"cart_id": 1, "payment": {"method": "account"}}),
             (staff, "/backoffice/announcements",
              {"subject": "S", "body": "B", "recipients": [{"email": "news@contract.test"}]}))
    for session, path, body in calls:
        r = session.post(system.api + path, json=body, headers={"Idempotency-Key": "k" * 201})
        assert r.status_code == 422, r.text
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.json()["code"] == "idempotency_key_too_long"
        assert "Idempotency-Key" in r.json()["errors"]
        r = session.post(system.api + path, json=body, headers={"Idempotency-Key": "k" * 200})
        assert r.status_code < 500 and r.json().get("code") != "idempotency_key_too_long"


def test_the_5xx_the_contract_found_are_422s(system, callers):
    """Values no service could keep: an id beyond 64 bits, a NUL character (PostgreSQL
    refused it mid-statement), in a body or a query."""
    buyer, staff = (requests.Session(), requests.Session())
    buyer.headers["Authorization"] = f"Bearer {callers['buyer'][0]}"
    staff.headers["Authorization"] = f"Bearer {callers['staff'][0]}"
    r = buyer.post(system.api + "/orders", json={"cart_id": -126285918773363473383424,
                                                 "payment": {"method": "account"}})
    assert r.status_code == 422 and "cart_id" in r.json()["errors"], r.text
    tag = uuid.uuid4().hex[:8]
    r = staff.post(system.api + "/backoffice/companies", json={
        "name": "Nul\x00 Company", "customer_number": f"N{tag}", "currency": "CAD",
        "admin": {"username": f"nul.{tag}", "email": f"nul.{tag}@contract.test",
                  "first_name": "N", "last_name": "U", "locale": "en"}})
    assert r.status_code == 422 and r.json()["code"] == "nul_character", r.text
    r = buyer.get(system.api + "/orders", params={"q": "R-\x00"})
    assert r.status_code == 422 and r.json()["code"] == "nul_character", r.text
