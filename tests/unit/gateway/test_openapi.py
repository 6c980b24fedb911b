"""The OpenAPI document says what the gateway does (tests/e2e/test_api_contract.py checks it
against the running system): statuses, media types, path parameters and fields as the
schemas load and dump them."""
import re

from services.common.idempotency import MAX_KEY_LENGTH
from services.common.paging import MAX_ID
from services.common.schemas import AMOUNT_PATTERN, MoneySchema
from services.gateway.api import endpoints_of
from services.gateway.openapi import build_spec
from services.gateway.service import GatewayService

SPEC = build_spec(endpoints_of(GatewayService))
PATHS = SPEC["paths"]
SCHEMAS = SPEC["components"]["schemas"]


def operations():
    for path, methods in PATHS.items():
        for method, op in methods.items():
            yield path, method, op


def test_money_amounts_are_decimal_strings():
    amount = SCHEMAS["Money"]["properties"]["amount"]
    assert amount == {"type": "string", "pattern": AMOUNT_PATTERN}
    dumped = MoneySchema().dump({"amount": "382", "currency": "CAD"})["amount"]
    assert dumped == "382.00" and re.fullmatch(AMOUNT_PATTERN, dumped)


def test_path_parameters_are_what_the_routes_match_and_404_is_documented():
    for path, method, op in operations():
        params = [p for p in op.get("parameters", ()) if p["in"] == "path"]
        assert [p["name"] for p in params] == re.findall(r"{(\w+)}", path), path
        if params:
            assert "404" in op["responses"], (method, path)
    card = PATHS["/api/v1/me/payment-cards/{id}"]["delete"]["parameters"][0]["schema"]
    assert card == {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    number = PATHS["/api/v1/orders/{number}"]["get"]["parameters"][0]["schema"]
    assert number["type"] == "string" and number["pattern"] == "^[^/]+$"


def test_every_operation_documents_its_errors():
    for path, method, op in operations():
        codes = set(op["responses"])
        assert "503" in codes, (method, path)
        if "security" in op:
            assert {"401", "403"} <= codes, (method, path)
        if "requestBody" in op:
            assert "413" in codes, (method, path)


def test_a_body_is_required_only_when_a_field_is():
    assert PATHS["/api/v1/orders"]["post"]["requestBody"]["required"] is True
    assert PATHS["/api/v1/me"]["patch"]["requestBody"]["required"] is False
    assert PATHS["/api/v1/carts"]["post"]["requestBody"]["required"] is False  # name has a default


def test_a_nested_object_that_may_be_null_is_that_object_or_null_only():
    address = SCHEMAS["SubscriptionIn"]["properties"]["shipping_address"]["anyOf"]
    assert {"$ref": "#/components/schemas/Address"} in address
    assert {"type": "object", "nullable": True, "enum": [None]} in address
    assert {"type": "object", "nullable": True} not in address


def test_exports_and_pages_document_their_media_types():
    for path in ("/api/v1/assets", "/api/v1/reports/{key}", "/api/v1/licenses",
                 "/api/v1/approval-audit"):
        assert set(PATHS[path]["get"]["responses"]["200"]["content"]) == \
            {"application/json", "text/csv"}, path
    unsubscribe = PATHS["/api/v1/unsubscribe"]["get"]["responses"]
    assert "text/html" in unsubscribe["200"]["content"]
    assert "text/html" in unsubscribe["404"]["content"]


def test_the_idempotency_key_is_at_most_what_services_keep():
    for path, method, op in operations():
        for p in op.get("parameters", ()):
            if p["name"] == "Idempotency-Key":
                assert p["schema"]["maxLength"] == MAX_KEY_LENGTH == 200, (method, path)


def test_oci_login_parameters_are_documented_for_get_too():
    params = {p["name"]: p for p in PATHS["/api/v1/punchout/oci"]["get"]["parameters"]}
    assert params["HOOK_URL"]["required"] and not params["USERNAME"]["required"]


def test_objects_whose_fields_depend_on_their_kind_say_which():
    rule = SCHEMAS["Rule"]["oneOf"]  # an approval workflow's rule
    catalog = next(v for v in rule if v["properties"]["type"] == {"enum": ["catalog"]})
    assert catalog["required"] == ["catalog_ids"]
    favorite = SCHEMAS["FavoriteIn"]["oneOf"]
    assert {tuple(v.get("required", ())) for v in favorite} == \
        {("part_number",), ("part_numbers",), ("lines",), ("url",)}
    catalog_rule = SCHEMAS["CatalogIn"]["properties"]["rules"]["items"]["oneOf"]
    assert {"type": "string", "enum": ["standards", "purchase_history"]} in catalog_rule


def test_fields_say_what_they_take():
    group = SCHEMAS["UserCreate"]["properties"]["groups"]["items"]
    assert {"type": "integer"} in group["anyOf"]
    assert SCHEMAS["CatalogIn"]["properties"]["name"]["pattern"] == r"\S"  # stripped
    url = SCHEMAS["PunchoutConfigIn"]["properties"]["order_status_url"]["pattern"]
    assert url.startswith("^https?://")
    assert SCHEMAS["QuickAddLine"]["properties"]["quantity"] == {"not": {"enum": [None]}}
    assert SCHEMAS["EmailPreferences"]["properties"]["marketing"]["type"] == "boolean"
