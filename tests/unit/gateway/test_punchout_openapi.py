"""The OpenAPI document describes the e-procurement endpoints as procurement systems use
them: cXML in and out, the OCI form, the redirects, the CIF file."""
from services.gateway.api import endpoints_of
from services.gateway.openapi import build_spec
from services.gateway.service import GatewayService

SPEC = build_spec(endpoints_of(GatewayService))
PATHS = SPEC["paths"]


def test_cxml_endpoints_take_and_give_xml_and_are_public():
    for path in ("/api/v1/punchout/cxml/setup", "/api/v1/punchout/cxml/order"):
        op = PATHS[path]["post"]
        assert "security" not in op and op["x-required-right"] == "public"
        assert list(op["requestBody"]["content"]) == ["text/xml"]
        assert list(op["responses"]["200"]["content"]) == ["text/xml"]
        assert list(op["responses"]["400"]["content"]) == ["text/xml"]
    assert "401" in PATHS["/api/v1/punchout/cxml/setup"]["post"]["responses"]
    assert "409" in PATHS["/api/v1/punchout/cxml/order"]["post"]["responses"]


def test_oci_start_handoff_and_session():
    oci = PATHS["/api/v1/punchout/oci"]
    assert set(oci) == {"get", "post"} and "303" in oci["get"]["responses"]
    form = oci["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["HOOK_URL"]
    assert "303" in PATHS["/api/v1/punchout/start/{token}"]["get"]["responses"]
    assert "text/html" in PATHS["/api/v1/punchout/handoff/{token}"]["get"]["responses"]["200"]["content"]
    transfer = PATHS["/api/v1/punchout/session/transfer"]["post"]
    assert transfer["security"] == [{"bearer": []}]
    assert "handoff_url" in transfer["responses"]["200"]["content"]["application/json"]["schema"]["properties"]


def test_configuration_and_cif_export():
    put = PATHS["/api/v1/backoffice/companies/{company_id}/punchout"]["put"]
    assert put["x-required-right"] == "reseller staff"
    schema = SPEC["components"]["schemas"]["PunchoutConfigIn"]["properties"]
    assert {"from_credentials", "sender", "shared_secret", "user_mapping", "oci_allowed",
            "order_status_url"} <= set(schema)
    out = SPEC["components"]["schemas"]["PunchoutConfigOut"]["properties"]
    assert "shared_secret" not in out and "shared_secret_set" in out
    cif = PATHS["/api/v1/catalogs/export.cif"]["get"]
    assert list(cif["responses"]["200"]["content"]) == ["text/plain"]
