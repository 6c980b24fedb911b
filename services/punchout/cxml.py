"""cXML 1.2 documents: reading what procurement systems send, writing what they expect back.

Reading goes through defusedxml: a document that declares entities (a billion-laughs bomb, an
external entity reading a file or a URL) is refused, and no DTD is ever fetched; the DOCTYPE
line every cXML document carries is allowed and ignored. Anything that is not a well-formed
cXML document of the expected kind raises `CxmlError` with the cXML status code to answer
(400 for a malformed or incomplete document).

Writing uses xml.etree: each document starts with the XML declaration and the cXML DOCTYPE
line of the spec's DTD (cXML.dtd, or Fulfill.dtd for ShipNoticeRequest), and carries a
unique `payloadID` (`<time>.<pid>.<random>@<host>`) and an ISO 8601 `timestamp` with its
UTC offset.
"""
import os
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

import defusedxml
import defusedxml.ElementTree as DET

CXML_VERSION = "1.2.050"
DTD_URL = "http://xml.cxml.org/schemas/cXML/{version}/{dtd}"
MAX_DOCUMENT = 4 * 1024 * 1024
OPERATIONS = ("create", "edit", "inspect")
# the cXML status codes Procura answers with, and their standard texts
STATUS_TEXT = {200: "OK", 201: "Accepted", 204: "No Content", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 406: "Not Acceptable", 409: "Conflict",
               500: "Internal Server Error", 503: "Service Unavailable"}


class CxmlError(Exception):
    """A document Procura cannot take, with the cXML status code to answer it with."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = int(code)
        self.message = message


# ------------------------------------------------------------------ what a document holds

@dataclass
class Credential:
    domain: str
    identity: str
    shared_secret: str | None = None

    def key(self):
        return (self.domain.strip().lower(), self.identity.strip().lower())


@dataclass
class Header:
    from_: list
    to: list
    sender: Credential
    user_agent: str = ""


@dataclass
class Item:
    """An ItemOut (or ItemIn) line: what is bought, how many, at what price."""
    part_number: str
    quantity: Decimal
    aux_id: str | None = None
    unit_price: Decimal | None = None
    currency: str | None = None
    description: str = ""
    unit_of_measure: str | None = None
    classification: dict = field(default_factory=dict)
    manufacturer_part_id: str | None = None
    manufacturer_name: str | None = None
    line_number: int | None = None


@dataclass
class SetupRequest:
    operation: str
    buyer_cookie: str
    browser_form_post: str | None
    extrinsics: dict
    contact: dict
    ship_to: dict | None
    items: list
    selected_item: str | None = None


@dataclass
class OrderRequest:
    order_id: str
    order_date: str
    order_type: str
    total: Decimal | None
    currency: str | None
    ship_to: dict | None
    bill_to: dict | None
    comments: str
    extrinsics: dict
    items: list


@dataclass
class Document:
    payload_id: str
    timestamp: str
    header: Header
    kind: str                 # the element under Request: PunchOutSetupRequest, OrderRequest
    deployment_mode: str      # production | test
    body: object              # SetupRequest | OrderRequest


# ------------------------------------------------------------------ reading

def parse_xml(data: bytes):
    """The root element of an XML document, refusing entities, external references and
    oversized input (CxmlError 400)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise CxmlError(400, "the request has no cXML document")
    if len(data) > MAX_DOCUMENT:
        raise CxmlError(400, "the cXML document is too large")
    try:
        return DET.fromstring(data, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    except defusedxml.EntitiesForbidden:
        raise CxmlError(400, "entity declarations are not accepted")
    except defusedxml.ExternalReferenceForbidden:
        raise CxmlError(400, "external references are not accepted")
    except defusedxml.DefusedXmlException as exc:
        raise CxmlError(400, f"the document is refused: {type(exc).__name__}")
    except (ET.ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding
        raise CxmlError(400, f"the document is not well-formed XML: {exc}")


def _text(el, path, default=""):
    found = el.find(path) if el is not None else None
    if found is None:
        return default
    return "".join(found.itertext()).strip()


def _required(el, path, what):
    value = _text(el, path, None)
    if not value:
        raise CxmlError(400, f"{what} is missing")
    return value


MAX_DIGITS = 12  # whole digits of a quantity or an amount


def _decimal(value, what):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise CxmlError(400, f"{what} is not a number: {str(value)[:40]!r}")
    if not amount.is_finite():
        raise CxmlError(400, f"{what} is not a number")
    # no quantity or price reaches a trillion; 1E+999999 would take seconds to make whole
    if amount and amount.adjusted() >= MAX_DIGITS:
        raise CxmlError(400, f"{what} is out of range")
    return amount


def _credential(el) -> Credential:
    return Credential(domain=(el.get("domain") or "").strip(),
                      identity=_text(el, "Identity"),
                      shared_secret=_text(el, "SharedSecret", None))


def _header(root) -> Header:
    header = root.find("Header")
    if header is None:
        raise CxmlError(400, "the cXML Header is missing")
    sender = header.find("Sender/Credential")
    if sender is None:
        raise CxmlError(400, "the Sender credential is missing")
    return Header(from_=[_credential(c) for c in header.findall("From/Credential")],
                  to=[_credential(c) for c in header.findall("To/Credential")],
                  sender=_credential(sender), user_agent=_text(header, "Sender/UserAgent"))


def _extrinsics(el) -> dict:
    return {(x.get("name") or "").strip(): "".join(x.itertext()).strip()
            for x in el.findall("Extrinsic") if x.get("name")}


def _address(el) -> dict | None:
    """A ShipTo/BillTo Address as Procura's address fields (name, line1, line2, city,
    region, postal_code, country), plus the cXML addressID when given."""
    if el is None:
        return None
    address = el.find("Address")
    if address is None:
        return None
    postal = address.find("PostalAddress")
    streets = [s for s in ("".join(x.itertext()).strip() for x in postal.findall("Street"))
               if s] if postal is not None else []
    deliver_to = [d for d in ("".join(x.itertext()).strip()
                              for x in postal.findall("DeliverTo")) if d] \
        if postal is not None else []
    country = postal.find("Country") if postal is not None else None
    iso = (country.get("isoCountryCode") or "").strip().upper() if country is not None else ""
    name = _text(address, "Name")
    return {"name": (name + (" / " + ", ".join(deliver_to) if deliver_to else ""))[:200] or None,
            "line1": streets[0][:200] if streets else None,
            "line2": ", ".join(streets[1:])[:200] or None,
            "city": _text(postal, "City")[:100] or None if postal is not None else None,
            "region": _text(postal, "State")[:100] or None if postal is not None else None,
            "postal_code": _text(postal, "PostalCode")[:20] or None if postal is not None else None,
            "country": iso or None,
            "address_id": address.get("addressID")}


def _item(el, what) -> Item:
    try:
        quantity = _decimal(el.get("quantity"), f"{what} quantity")
    except CxmlError:
        raise CxmlError(400, f"{what} has no valid quantity")
    item_id = el.find("ItemID")
    if item_id is None:
        raise CxmlError(400, f"{what} has no ItemID")
    part = _text(item_id, "SupplierPartID")
    if not part:
        raise CxmlError(400, f"{what} has no SupplierPartID")
    detail = el.find("ItemDetail")
    price = currency = None
    money = detail.find("UnitPrice/Money") if detail is not None else None
    if money is not None:
        price = _decimal("".join(money.itertext()), f"{what} UnitPrice")
        currency = (money.get("currency") or "").strip().upper() or None
    classification = {}
    if detail is not None:
        for c in detail.findall("Classification"):
            classification[(c.get("domain") or "").strip()] = "".join(c.itertext()).strip()
    d = detail.find("Description") if detail is not None else None
    # the description's own text, else its ShortName
    description = ((d.text or "").strip() or _text(d, "ShortName")) if d is not None else ""
    line = el.get("lineNumber")
    return Item(part_number=part, quantity=quantity, aux_id=_text(item_id, "SupplierPartAuxiliaryID", None),
                unit_price=price, currency=currency, description=description,
                unit_of_measure=_text(detail, "UnitOfMeasure", None) if detail is not None else None,
                classification=classification,
                manufacturer_part_id=_text(detail, "ManufacturerPartID", None) if detail is not None else None,
                manufacturer_name=_text(detail, "ManufacturerName", None) if detail is not None else None,
                line_number=int(line) if line and line.strip().isdigit() else None)


def _setup(el) -> SetupRequest:
    operation = (el.get("operation") or "").strip()
    if operation not in OPERATIONS:
        raise CxmlError(400, "operation must be create, edit or inspect")
    cookie = el.find("BuyerCookie")
    if cookie is None:
        raise CxmlError(400, "BuyerCookie is missing")
    items = [_item(x, f"ItemOut {i}") for i, x in enumerate(el.findall("ItemOut"), 1)]
    contact = el.find("Contact")
    return SetupRequest(
        operation=operation, buyer_cookie="".join(cookie.itertext()).strip()[:500],
        browser_form_post=_text(el, "BrowserFormPost/URL", None),
        extrinsics=_extrinsics(el),
        contact={"name": _text(contact, "Name"), "email": _text(contact, "Email")}
        if contact is not None else {},
        ship_to=_address(el.find("ShipTo")), items=items,
        selected_item=_text(el, "SelectedItem/ItemID/SupplierPartID", None))


def _order(el) -> OrderRequest:
    header = el.find("OrderRequestHeader")
    if header is None:
        raise CxmlError(400, "OrderRequestHeader is missing")
    order_id = (header.get("orderID") or "").strip()
    if not order_id:
        raise CxmlError(400, "orderID is missing")
    items = [_item(x, f"ItemOut {i}") for i, x in enumerate(el.findall("ItemOut"), 1)]
    if not items:
        raise CxmlError(400, "the order has no ItemOut")
    total = header.find("Total/Money")
    return OrderRequest(
        order_id=order_id[:100], order_date=(header.get("orderDate") or "").strip(),
        order_type=(header.get("type") or "new").strip(),
        total=_decimal("".join(total.itertext()), "Total") if total is not None else None,
        currency=(total.get("currency") or "").strip().upper() or None if total is not None else None,
        ship_to=_address(header.find("ShipTo")), bill_to=_address(header.find("BillTo")),
        comments=_text(header, "Comments")[:2000], extrinsics=_extrinsics(header), items=items)


READERS = {"PunchOutSetupRequest": _setup, "OrderRequest": _order}


def read_request(data: bytes, expected: str) -> Document:
    """Read a cXML request document whose Request holds `expected` (PunchOutSetupRequest
    or OrderRequest)."""
    root = parse_xml(data)
    if root.tag != "cXML":
        raise CxmlError(400, "the document is not cXML")
    header = _header(root)
    request = root.find("Request")
    if request is None or len(request) == 0:
        raise CxmlError(400, "the cXML Request is missing")
    body = request[0]
    if body.tag != expected:
        raise CxmlError(400, f"expected a {expected}, not a {body.tag}")
    return Document(payload_id=(root.get("payloadID") or "").strip()[:250],
                    timestamp=(root.get("timestamp") or "").strip(), header=header,
                    kind=body.tag, deployment_mode=request.get("deploymentMode") or "production",
                    body=READERS[expected](body))


def read_response_status(data: bytes) -> tuple[int, str]:
    """(code, text) of a cXML Response's Status (what a buyer's system answers to a
    StatusUpdateRequest or ShipNoticeRequest)."""
    root = parse_xml(data)
    status = root.find("Response/Status")
    if root.tag != "cXML" or status is None:
        raise CxmlError(400, "not a cXML Response")
    try:
        return int(status.get("code", "0")), (status.get("text") or "").strip()
    except ValueError:
        raise CxmlError(400, "the Status code is not a number")


# ------------------------------------------------------------------ writing

def payload_id(host: str = "procura") -> str:
    return f"{time.time():.0f}.{os.getpid()}.{secrets.token_hex(8)}@{host}"


def timestamp(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.isoformat(timespec="seconds")


def _document(root: ET.Element, dtd: str = "cXML.dtd") -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    doctype = f'<!DOCTYPE cXML SYSTEM "{DTD_URL.format(version=CXML_VERSION, dtd=dtd)}">'
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n{body}\n'.encode("utf-8")


def _root(payload: str | None, host: str, now=None) -> ET.Element:
    return ET.Element("cXML", {"payloadID": payload or payload_id(host),
                               "timestamp": timestamp(now), "xml:lang": "en-US"})


def _add_credentials(parent, tag, credentials, secret=None):
    box = ET.SubElement(parent, tag)
    for c in credentials:
        cred = ET.SubElement(box, "Credential", {"domain": c["domain"]})
        ET.SubElement(cred, "Identity").text = c["identity"]
        if secret is not None:
            ET.SubElement(cred, "SharedSecret").text = secret
    return box


def header(root, from_, to, sender, secret=None, user_agent="Procura"):
    """Header with From, To and Sender credentials (each a list of {domain, identity})."""
    h = ET.SubElement(root, "Header")
    _add_credentials(h, "From", from_)
    _add_credentials(h, "To", to)
    s = _add_credentials(h, "Sender", sender, secret)
    ET.SubElement(s, "UserAgent").text = user_agent
    return h


def response(code: int, text: str | None = None, message: str = "", host: str = "procura",
             in_reply_to: str | None = None) -> bytes:
    """A cXML Response with only its Status."""
    root = _root(None, host)
    r = ET.SubElement(root, "Response")
    status = ET.SubElement(r, "Status", {"code": str(code),
                                         "text": text or STATUS_TEXT.get(code, "Error")})
    status.set("xml:lang", "en-US")
    if message:
        status.text = message
    return _document(root)


def setup_response(start_url: str, host: str = "procura") -> bytes:
    root = _root(None, host)
    r = ET.SubElement(root, "Response")
    ET.SubElement(r, "Status", {"code": "200", "text": "OK"})
    page = ET.SubElement(ET.SubElement(r, "PunchOutSetupResponse"), "StartPage")
    ET.SubElement(page, "URL").text = start_url
    return _document(root)


def _money(parent, tag, amount, currency):
    box = ET.SubElement(parent, tag)
    ET.SubElement(box, "Money", {"currency": currency}).text = f"{Decimal(amount):.2f}"
    return box


def order_message(buyer_cookie: str, lines: list, currency: str, from_, to, sender,
                  operation_allowed: str = "edit", host: str = "procura") -> bytes:
    """A PunchOutOrderMessage: the cart handed back to the buyer's system. Each line is
    {part_number, aux_id, quantity, unit_price, description, name, unit_of_measure, unspsc,
    manufacturer, mfg_part_number, lead_time_days?}."""
    root = _root(None, host)
    header(root, from_, to, sender)
    message = ET.SubElement(ET.SubElement(root, "Message"), "PunchOutOrderMessage")
    ET.SubElement(message, "BuyerCookie").text = buyer_cookie
    head = ET.SubElement(message, "PunchOutOrderMessageHeader",
                         {"operationAllowed": operation_allowed})
    total = sum((Decimal(str(l["unit_price"])) * Decimal(str(l["quantity"])) for l in lines),
                Decimal(0))
    _money(head, "Total", total, currency)
    for number, line in enumerate(lines, 1):
        item = ET.SubElement(message, "ItemIn", {"quantity": _quantity(line["quantity"]),
                                                 "lineNumber": str(number)})
        item_id = ET.SubElement(item, "ItemID")
        ET.SubElement(item_id, "SupplierPartID").text = line["part_number"]
        if line.get("aux_id"):
            ET.SubElement(item_id, "SupplierPartAuxiliaryID").text = line["aux_id"]
        detail = ET.SubElement(item, "ItemDetail")
        _money(detail, "UnitPrice", line["unit_price"], currency)
        description = ET.SubElement(detail, "Description", {"xml:lang": "en"})
        description.text = line.get("description") or line.get("name") or line["part_number"]
        ET.SubElement(description, "ShortName").text = (line.get("name") or line["part_number"])[:50]
        ET.SubElement(detail, "UnitOfMeasure").text = line.get("unit_of_measure") or "EA"
        ET.SubElement(detail, "Classification", {"domain": "UNSPSC"}).text = \
            line.get("unspsc") or "43000000"
        if line.get("mfg_part_number"):
            ET.SubElement(detail, "ManufacturerPartID").text = line["mfg_part_number"]
        if line.get("manufacturer"):
            ET.SubElement(detail, "ManufacturerName").text = line["manufacturer"]
        if line.get("lead_time_days") is not None:
            ET.SubElement(detail, "LeadTime").text = str(line["lead_time_days"])
    return _document(root)


def _quantity(value) -> str:
    q = Decimal(str(value))
    return str(q.quantize(Decimal(1))) if q == q.to_integral_value() else str(q.normalize())


def status_update(order_id: str, order_payload_id: str, code: int, text: str, message: str,
                  extrinsics: dict, from_, to, sender, secret, payload: str,
                  host: str = "procura") -> bytes:
    """A StatusUpdateRequest about an order the buyer's system sent (its OrderRequest's
    payloadID in DocumentReference)."""
    root = _root(payload, host)
    header(root, from_, to, sender, secret)
    request = ET.SubElement(ET.SubElement(root, "Request"), "StatusUpdateRequest")
    ET.SubElement(request, "DocumentReference", {"payloadID": order_payload_id or order_id})
    status = ET.SubElement(request, "Status", {"code": str(code), "text": text})
    status.set("xml:lang", "en-US")
    status.text = message
    for name, value in extrinsics.items():
        ET.SubElement(request, "Extrinsic", {"name": name}).text = str(value)
    return _document(root)


def ship_notice(shipment_id: str, order_id: str, order_payload_id: str, order_date: str,
                shipped_at: str, carrier: str, tracking_number: str, lines: list, from_, to,
                sender, secret, payload: str, host: str = "procura") -> bytes:
    """A ShipNoticeRequest (advance ship notice) for one shipment of an order; `lines` are
    {line_number, part_number, quantity}."""
    root = _root(payload, host)
    header(root, from_, to, sender, secret)
    request = ET.SubElement(ET.SubElement(root, "Request"), "ShipNoticeRequest")
    ET.SubElement(request, "ShipNoticeHeader", {
        "shipmentID": shipment_id, "operation": "new", "noticeDate": timestamp(),
        "shipmentDate": shipped_at})
    control = ET.SubElement(request, "ShipControl")
    ET.SubElement(control, "CarrierIdentifier", {"domain": "companyName"}).text = carrier
    ET.SubElement(control, "ShipmentIdentifier").text = tracking_number
    portion = ET.SubElement(request, "ShipNoticePortion")
    reference = ET.SubElement(portion, "OrderReference", {"orderID": order_id})
    if order_date:
        reference.set("orderDate", order_date)
    ET.SubElement(reference, "DocumentReference", {"payloadID": order_payload_id or order_id})
    for line in lines:
        item = ET.SubElement(portion, "ShipNoticeItem", {
            "quantity": _quantity(line["quantity"]), "lineNumber": str(line["line_number"])})
        ET.SubElement(ET.SubElement(item, "ItemID"), "SupplierPartID").text = line["part_number"]
        ET.SubElement(item, "UnitOfMeasure").text = line.get("unit_of_measure") or "EA"
    return _document(root, dtd="Fulfill.dtd")
