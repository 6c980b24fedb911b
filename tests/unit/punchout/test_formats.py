"""cXML and OCI, read and written: Ariba-shaped setup and order requests, hostile XML
refused, documents Procura writes valid for their DTD's shape, OCI fields and lengths."""
from decimal import Decimal
from urllib.parse import urlencode

import defusedxml.ElementTree as DET
import pytest

from services.punchout import cxml, oci
from tests.support import punchout_documents as docs

CREDS = ("AN01000002791", "123456789", "AN01000002791", "s3cret-shared-2026")
SUPPLIER = [{"domain": "NetworkID", "identity": "AN01000000777"}]
BUYER = [{"domain": "NetworkID", "identity": "AN01000002791"}]
LINE = {"part_number": "LEN-20XW0042US", "quantity": 2, "unit_price": "1999.00",
        "name": "ThinkPad X1 Carbon", "description": "Ultralight 14-inch business notebook",
        "unit_of_measure": "EA", "unspsc": "43211503", "manufacturer": "Lenovo",
        "mfg_part_number": "20XW0042US", "aux_id": "Q7-1", "quote_id": "Q7", "line_number": 1}


def test_an_ariba_setup_request_is_read_whole():
    text = docs.setup_request(CREDS, operation="edit", post_url="https://buyer.test/hook",
                              items=[docs.item_out("LEN-1", 2, "10.50", aux="Q3-1"),
                                     docs.item_out("HP-2", "1.5", "3.00", line=2)])
    doc = cxml.read_request(text.encode(), "PunchOutSetupRequest")
    assert doc.payload_id == "1233444-2001@ariba.acme.com"
    assert [c.key() for c in doc.header.from_] == [("networkid", "an01000002791"),
                                                   ("duns", "123456789")]
    assert doc.header.sender.shared_secret == "s3cret-shared-2026"
    body = doc.body
    assert (body.operation, body.buyer_cookie) == ("edit", "1CX3L4843PPZO")
    assert body.browser_form_post == "https://buyer.test/hook"
    assert body.extrinsics["UserEmail"] == "buyer@example.test"
    assert body.extrinsics["CostCenter"] == "610"
    assert body.ship_to["city"] == "Toronto" and body.ship_to["country"] == "CA"
    assert body.ship_to["name"] == "Acme Toronto / Jane Doe"
    first, second = body.items
    assert (first.part_number, first.quantity, first.aux_id, first.unit_price, first.currency) \
        == ("LEN-1", Decimal(2), "Q3-1", Decimal("10.50"), "CAD")
    assert first.classification == {"UNSPSC": "43211503"}
    assert (second.quantity, second.line_number) == (Decimal("1.5"), 2)


def test_an_order_request_is_read_whole():
    text = docs.order_request(CREDS, order_id="PO-4711", total="21.00",
                              items=[docs.item_out("LEN-1", 2, "10.50", aux="Q3-1")])
    body = cxml.read_request(text.encode(), "OrderRequest").body
    assert (body.order_id, body.order_type, body.total, body.currency) == \
        ("PO-4711", "new", Decimal("21.00"), "CAD")
    assert body.ship_to["line1"] == "100 King St W" and body.ship_to["line2"] == "Floor 12"
    assert body.bill_to["name"] == "Acme Accounts Payable"
    assert body.comments == "Deliver to reception."
    assert body.extrinsics == {"UserEmail": "buyer@example.test"}


@pytest.mark.parametrize("document", [docs.BILLION_LAUGHS, docs.XXE], ids=["billion-laughs", "xxe"])
def test_entities_are_refused_with_400(document):
    with pytest.raises(cxml.CxmlError) as caught:
        cxml.read_request(document.encode(), "PunchOutSetupRequest")
    assert caught.value.code == 400


@pytest.mark.parametrize("document, words", [
    (b"", "no cXML"), (b"<cXML><Header>", "well-formed"), (b"<html/>", "not cXML"),
    (b'<cXML><Header><Sender><Credential domain="d"><Identity>i</Identity></Credential></Sender>'
     b'</Header><Request><OrderRequest/></Request></cXML>', "expected a PunchOutSetupRequest"),
    (b'<cXML><Header><Sender><Credential domain="d"><Identity>i</Identity></Credential></Sender>'
     b'</Header><Request><PunchOutSetupRequest operation="buy"><BuyerCookie/>'
     b'</PunchOutSetupRequest></Request></cXML>', "operation"),
])
def test_malformed_documents_are_400_with_a_reason(document, words):
    with pytest.raises(cxml.CxmlError) as caught:
        cxml.read_request(document, "PunchOutSetupRequest")
    assert caught.value.code == 400 and words in caught.value.message


def test_a_bad_quantity_or_price_is_400():
    text = docs.setup_request(CREDS, operation="edit", post_url="https://b.test/h",
                              items=[docs.item_out("LEN-1", "lots", "1.00")])
    with pytest.raises(cxml.CxmlError, match="quantity"):
        cxml.read_request(text.encode(), "PunchOutSetupRequest")
    text = docs.order_request(CREDS, order_id="P", total="x", items=[docs.item_out("A", 1)])
    with pytest.raises(cxml.CxmlError, match="Total"):
        cxml.read_request(text.encode(), "OrderRequest")


@pytest.mark.parametrize("quantity, price, words", [
    ("1E+999999", "1.00", "no valid quantity"), ("9" * 5000, "1.00", "no valid quantity"),
    (1, "1E+30", "UnitPrice is out of range")])
def test_a_quantity_or_price_beyond_a_trillion_is_400_at_once(quantity, price, words):
    # 1E+999999 made whole would hold the service for many seconds
    text = docs.order_request(CREDS, order_id="P", total="1.00",
                              items=[docs.item_out("A", quantity, price)])
    with pytest.raises(cxml.CxmlError, match=words) as caught:
        cxml.read_request(text.encode(), "OrderRequest")
    assert caught.value.code == 400


def test_a_document_in_an_unknown_encoding_is_400():
    with pytest.raises(cxml.CxmlError, match="well-formed") as caught:
        cxml.read_request(b'<?xml version="1.0" encoding="x-bogus"?><cXML/>', "OrderRequest")
    assert caught.value.code == 400


def _parsed(document: bytes):
    text = document.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML SYSTEM '
                           '"http://xml.cxml.org/schemas/cXML/1.2.050/')
    root = DET.fromstring(document)
    assert root.tag == "cXML" and "@" in root.get("payloadID")
    assert root.get("timestamp").endswith("+00:00")
    return root


def test_setup_response_and_status_responses():
    root = _parsed(cxml.setup_response("https://procura.test/api/v1/punchout/start/abc"))
    assert root.find("Response/Status").get("code") == "200"
    assert root.findtext("Response/PunchOutSetupResponse/StartPage/URL") == \
        "https://procura.test/api/v1/punchout/start/abc"
    root = _parsed(cxml.response(401, message="no"))
    status = root.find("Response/Status")
    assert (status.get("code"), status.get("text"), status.text) == ("401", "Unauthorized", "no")
    assert cxml.read_response_status(cxml.response(200)) == (200, "OK")


def test_order_message_carries_everything_the_buyer_system_needs():
    root = _parsed(cxml.order_message("COOKIE", [LINE], "CAD", SUPPLIER, BUYER, SUPPLIER))
    assert root.findtext("Header/From/Credential/Identity") == "AN01000000777"
    assert root.findtext("Header/To/Credential/Identity") == "AN01000002791"
    message = root.find("Message/PunchOutOrderMessage")
    assert message.findtext("BuyerCookie") == "COOKIE"
    header = message.find("PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "edit"
    money = header.find("Total/Money")
    assert (money.text, money.get("currency")) == ("3998.00", "CAD")
    (item,) = message.findall("ItemIn")
    assert item.get("quantity") == "2"
    assert item.findtext("ItemID/SupplierPartID") == "LEN-20XW0042US"
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == "Q7-1"
    detail = item.find("ItemDetail")
    # the DTD's order: UnitPrice, Description, UnitOfMeasure, Classification, ManufacturerPartID,
    # ManufacturerName
    assert [c.tag for c in detail] == ["UnitPrice", "Description", "UnitOfMeasure",
                                      "Classification", "ManufacturerPartID", "ManufacturerName"]
    assert detail.findtext("UnitPrice/Money") == "1999.00"
    assert detail.find("Description").text.startswith("Ultralight")
    assert detail.findtext("Description/ShortName") == "ThinkPad X1 Carbon"
    assert detail.find("Classification").get("domain") == "UNSPSC"
    assert detail.findtext("Classification") == "43211503"


def test_status_update_and_ship_notice():
    root = _parsed(cxml.status_update("PO-1", "order-1@ariba", 200, "OK", "Order SO-1 is shipped.",
                                      {"supplierOrderID": "SO-1"}, SUPPLIER, BUYER, SUPPLIER,
                                      "secret", "p-1@procura"))
    assert root.get("payloadID") == "p-1@procura"
    assert root.findtext("Header/Sender/Credential/SharedSecret") == "secret"
    request = root.find("Request/StatusUpdateRequest")
    assert request.find("DocumentReference").get("payloadID") == "order-1@ariba"
    assert request.find("Status").get("code") == "200"
    root = _parsed(cxml.ship_notice("SO-1-4", "PO-1", "order-1@ariba", "2026-11-30", "2026-12-01T10:00:00Z",
                                    "Purolator", "PUR123", [{"line_number": 1, "part_number": "A",
                                                            "quantity": 2}], SUPPLIER, BUYER,
                                    SUPPLIER, "secret", "p-2@procura"))
    assert "Fulfill.dtd" in cxml.ship_notice("s", "o", "p", "", "", "c", "t", [], SUPPLIER, BUYER,
                                             SUPPLIER, "x", "p").decode()
    request = root.find("Request/ShipNoticeRequest")
    assert [c.tag for c in request] == ["ShipNoticeHeader", "ShipControl", "ShipNoticePortion"]
    assert request.findtext("ShipControl/ShipmentIdentifier") == "PUR123"
    assert request.find("ShipNoticePortion/OrderReference").get("orderID") == "PO-1"
    assert request.find("ShipNoticePortion/ShipNoticeItem").get("quantity") == "2"


def test_oci_login_fields_are_read_in_any_case():
    login = oci.read_login({"username": "acme", "PASSWORD": "pw", "hook_url": "https://s.test/h",
                            "OCI_VERSION": "5.0", "returntarget": "_parent"})
    assert (login.username, login.password, login.hook_url, login.version, login.return_target) \
        == ("acme", "pw", "https://s.test/h", "5.0", "_parent")
    with pytest.raises(oci.OciError, match="HOOK_URL"):
        oci.read_login({"USERNAME": "acme"})
    with pytest.raises(oci.OciError, match="VALIDATE"):
        oci.read_login({"HOOK_URL": "https://s.test/h", "FUNCTION": "VALIDATE"})


def test_oci_item_fields_follow_the_oci_names_and_lengths():
    long = dict(LINE, name="A product name much longer than forty characters, surely",
                quantity=3)
    fields = oci.item_fields([LINE, long], "CAD", "_top")
    got = dict(fields)
    assert got["NEW_ITEM-DESCRIPTION[1]"] == "ThinkPad X1 Carbon"
    assert got["NEW_ITEM-QUANTITY[1]"] == "2" and got["NEW_ITEM-QUANTITY[2]"] == "3"
    assert got["NEW_ITEM-UNIT[1]"] == "EA"
    assert got["NEW_ITEM-PRICE[1]"] == "1999.00" and got["NEW_ITEM-CURRENCY[1]"] == "CAD"
    assert got["NEW_ITEM-VENDORMAT[1]"] == "LEN-20XW0042US"
    assert got["NEW_ITEM-MANUFACTMAT[1]"] == "20XW0042US"
    assert got["NEW_ITEM-MATGROUP[1]"] == "43211503"
    assert got["NEW_ITEM-EXT_PRODUCT_ID[1]"] == "LEN-20XW0042US"
    assert got["NEW_ITEM-EXT_QUOTE_ID[1]"] == "Q7" and got["NEW_ITEM-EXT_QUOTE_ITEM[1]"] == "1"
    assert len(got["NEW_ITEM-DESCRIPTION[2]"]) == 40
    assert got["NEW_ITEM-LONGTEXT_1:132[]"] == LINE["description"]
    assert fields[-3:] == [("~OkCode", "ADDI"), ("~TARGET", "_top"), ("~CALLER", "CTLG")]
    # what a browser posts is ordinary form encoding
    assert "NEW_ITEM-DESCRIPTION%5B1%5D=ThinkPad+X1+Carbon" in urlencode(fields)
