"""E-procurement's rules on a real database (SQLite or PostgreSQL, PROCURA_TEST_DB): the
configuration and its secrets, who a request is, single-use start links, transfers and the
prices they fix, orders once per orderID, status deliveries once per event with back-off."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from services.common.context import CallerContext
from services.common.errors import Conflict, Gone, Invalid, NotFound, Unauthorized
from services.punchout import credentials, cxml, domain
from services.punchout.models import Base, PunchedOutLine, PunchoutConfig, StatusDelivery
from tests.support import punchout_documents as docs

T0 = datetime(2026, 11, 30, 9, 0)
SECRET = "s3cret-shared-2026"
CREDS = ("AN01000002791", "123456789", "AN01000002791", SECRET)


@pytest.fixture(autouse=True)
def secret_key(monkeypatch):
    monkeypatch.setenv("PUNCHOUT_SECRET_KEY", Fernet.generate_key().decode())
    credentials.reset()
    yield
    credentials.reset()


@pytest.fixture
def db(session_factory):
    return session_factory("punchout", Base)


def config(**changes):
    data = {"enabled": True,
            "from_credentials": [{"domain": "NetworkID", "identity": "AN01000002791"},
                                 {"domain": "DUNS", "identity": "123456789"}],
            "sender": {"domain": "NetworkID", "identity": "AN01000002791"},
            "shared_secret": SECRET, "user_mapping": "fixed", "user_id": 7,
            "oci_allowed": True, "oci_username": "acme-srm", "oci_password": "oci-password-2026",
            "order_status_url": "https://buyer.test/cxml"}
    data.update(changes)
    return data


def header(creds=CREDS):
    text = docs.setup_request(creds, post_url="https://buyer.test/hook")
    return cxml.read_request(text.encode(), "PunchOutSetupRequest").header


def test_secrets_are_stored_encrypted_and_never_shown(db):
    cfg = domain.put_config(db, 1, config(), actor_user_id=99)
    db.commit()
    raw = db.execute(text("SELECT secret_sealed, oci_password_sealed FROM punchout_configs")).one()
    assert SECRET not in raw[0] and "oci-password-2026" not in raw[1]
    view = domain.config_view(cfg)
    assert view["shared_secret_set"] and view["oci_password_set"]
    assert SECRET not in str(view)
    # left out, the secret stays
    domain.put_config(db, 1, config(shared_secret=None, oci_password=None))
    assert domain.authenticate_cxml(db, header()).company_id == 1
    assert domain.authenticate_oci(db, "acme-srm", "oci-password-2026").company_id == 1


def test_configuration_rules(db):
    with pytest.raises(Invalid, match="shared secret"):
        domain.put_config(db, 1, config(shared_secret=None))
    with pytest.raises(Invalid, match="user"):
        domain.put_config(db, 1, config(user_id=None))
    domain.put_config(db, 1, config())
    with pytest.raises(Conflict, match="Sender"):
        domain.put_config(db, 2, config(oci_username="other"))
    with pytest.raises(Conflict, match="OCI username"):
        domain.put_config(db, 2, config(sender={"domain": "DUNS", "identity": "987"}))
    with pytest.raises(NotFound):
        domain.get_config(db, 3)


@pytest.mark.parametrize("creds", [
    ("AN01000002791", "123456789", "AN01000002791", "wrong-secret-000"),   # secret
    ("AN09999999999", "999999999", "AN01000002791", SECRET),               # From
    ("AN01000002791", "123456789", "AN05555555555", SECRET),               # Sender
    ("AN01000002791", "123456789", "AN01000002791", ""),                   # no secret
])
def test_any_wrong_credential_is_the_same_401(db, creds):
    domain.put_config(db, 1, config())
    with pytest.raises(Unauthorized) as caught:
        domain.authenticate_cxml(db, header(creds))
    assert caught.value.code == "punchout_unauthorized"


def test_a_disabled_configuration_or_oci_refuses(db):
    domain.put_config(db, 1, config(enabled=False))
    with pytest.raises(Unauthorized):
        domain.authenticate_cxml(db, header())
    domain.put_config(db, 1, config(oci_allowed=False))
    with pytest.raises(Unauthorized):
        domain.authenticate_oci(db, "acme-srm", "oci-password-2026")
    with pytest.raises(Unauthorized):
        domain.authenticate_oci(db, "acme-srm", "nope")


def test_acting_user_by_rule(db):
    fixed = domain.put_config(db, 1, config())
    assert domain.acting_user(fixed, {"UserEmail": "x@y.test"}) == {"user_id": 7}
    by_email = domain.put_config(db, 1, config(user_mapping="user_email", user_id=None))
    assert domain.acting_user(by_email, {"UserEmail": " Jane@Acme.test "}) == {"email": "Jane@Acme.test"}
    assert domain.acting_user(by_email, {}, "c@acme.test") == {"email": "c@acme.test"}
    with pytest.raises(Invalid, match="UserEmail"):
        domain.acting_user(by_email, {})


def test_a_start_link_works_once_within_five_minutes(db):
    cfg = domain.put_config(db, 1, config())
    opened = domain.open_session(db, cfg, protocol="cxml", operation="create",
                                 return_url="https://buyer.test/hook", buyer_cookie="C",
                                 user={"user_id": 7}, now=T0)
    row, key = domain.redeem_start(db, opened.start_token, now=T0 + timedelta(minutes=4))
    assert row.started_at is not None and key
    with pytest.raises(Gone):
        domain.redeem_start(db, opened.start_token, now=T0 + timedelta(minutes=4))
    late = domain.open_session(db, cfg, protocol="cxml", operation="create",
                               return_url="https://buyer.test/hook", user={"user_id": 7}, now=T0)
    with pytest.raises(Gone):
        domain.redeem_start(db, late.start_token, now=T0 + timedelta(minutes=6))
    with pytest.raises(Gone):
        domain.redeem_start(db, "made-up", now=T0)
    with pytest.raises(Invalid, match="return URL"):
        domain.open_session(db, cfg, protocol="cxml", operation="create",
                            return_url="javascript:alert(1)", user={"user_id": 7})
    with pytest.raises(Invalid, match="ItemOut"):
        domain.open_session(db, cfg, protocol="cxml", operation="edit",
                            return_url="https://buyer.test/hook", user={"user_id": 7})


def _started(db, operation="create", items=None):
    cfg = domain.put_config(db, 1, config())
    opened = domain.open_session(db, cfg, protocol="cxml", operation=operation,
                                 return_url="https://buyer.test/hook", buyer_cookie="C",
                                 user={"user_id": 7}, items=items)
    row, key = domain.redeem_start(db, opened.start_token)
    domain.started(row, 7, 55)
    return row, key


def test_the_browser_session_is_its_users_only(db):
    row, key = _started(db)
    me = CallerContext(user_id=7, company_id=1)
    assert domain.browser_session(db, me, key).id == row.id
    for other in (CallerContext(user_id=8, company_id=1), CallerContext(user_id=7, company_id=2)):
        with pytest.raises(NotFound):
            domain.browser_session(db, other, key)
    with pytest.raises(NotFound):
        domain.browser_session(db, me, "guess")


def priced_line(part, quantity, amount):
    return {"part_number": part, "quantity": quantity,
            "unit_price": {"amount": amount, "currency": "CAD"}, "name": part,
            "description": part, "unit_of_measure": "EA", "unspsc": "43211503",
            "manufacturer": "Lenovo", "mfg_part_number": "M-" + part}


def test_transfer_fixes_each_lines_price_once(db):
    row, key = _started(db)
    out = domain.transfer(db, row, [priced_line("A-1", 2, "10.00"), priced_line("B-2", 1, "5.50")],
                          "CAD")
    assert [l["aux_id"] for l in out] == [f"Q{row.id}-1", f"Q{row.id}-2"]
    kept = db.scalars(select(PunchedOutLine).order_by(PunchedOutLine.line_number)).all()
    assert [(k.part_number, k.quantity, k.unit_price) for k in kept] == \
        [("A-1", 2, Decimal("10.00")), ("B-2", 1, Decimal("5.50"))]
    with pytest.raises(Conflict):
        domain.transfer(db, row, [], "CAD")
    with pytest.raises(NotFound):  # the session ended
        domain.browser_session(db, CallerContext(user_id=7, company_id=1), key)
    form = {"url": "https://buyer.test/hook", "fields": [["cxml-urlencoded", "<cXML/>"]]}
    token = domain.prepare_handoff(row, form)
    assert domain.redeem_handoff(db, token) == form
    with pytest.raises(Gone):
        domain.redeem_handoff(db, token)


def test_inspect_returns_the_lines_it_was_given(db):
    items = domain.item_dicts(cxml.read_request(docs.setup_request(
        CREDS, operation="inspect", post_url="https://b.test/h",
        items=[docs.item_out("A-1", 3, "10.00", aux="Q1-1")]).encode(),
        "PunchOutSetupRequest").body.items)
    row, _ = _started(db, "inspect", items)
    assert domain.prefill_lines(row) == [{"part_number": "A-1", "quantity": 3}]
    (line,) = domain.transfer(db, row, [priced_line("Z-9", 1, "1.00")], "CAD")
    assert (line["part_number"], line["quantity"], line["unit_price"], line["aux_id"]) == \
        ("A-1", "3", "10.00", "Q1-1")


def item(part, quantity, price, aux=None):
    return cxml.Item(part_number=part, quantity=Decimal(quantity),
                     unit_price=None if price is None else Decimal(price), currency="CAD",
                     aux_id=aux)


def quote(part, amount, status="ok"):
    return {"part_number": part, "status": status,
            "unit_price": {"amount": amount, "currency": "CAD"}}


def test_order_prices_must_be_punched_out_and_current(db):
    row, _ = _started(db)
    domain.transfer(db, row, [priced_line("A-1", 2, "10.00")], "CAD")
    aux = f"Q{row.id}-1"
    domain.check_order_lines(db, 1, [item("A-1", 2, "10.00", aux)], [quote("A-1", "10.00")], "CAD")
    domain.check_order_lines(db, 1, [item("A-1", 2, "10.00")], [quote("A-1", "10.00")], "CAD")
    with pytest.raises(Conflict) as caught:   # the buyer changed the price
        domain.check_order_lines(db, 1, [item("A-1", 2, "9.00", aux)], [quote("A-1", "9.00")], "CAD")
    assert caught.value.code == "price_changed"
    with pytest.raises(Conflict):             # the catalog's price moved since
        domain.check_order_lines(db, 1, [item("A-1", 2, "10.00", aux)], [quote("A-1", "11.00")], "CAD")
    with pytest.raises(Invalid, match="cannot be ordered") as caught:
        domain.check_order_lines(db, 2, [item("A-1", 2, "10.00", aux)], [quote("A-1", "10.00")], "CAD")
    assert "punched-out" in str(caught.value.errors)   # another company's line
    with pytest.raises(Invalid):
        domain.check_order_lines(db, 1, [item("A-1", "1.5", "10.00")], [quote("A-1", "10.00")], "CAD")
    with pytest.raises(Invalid):
        domain.check_order_lines(db, 1, [item("X", 1, "1.00")], [quote("X", None, "not_found")], "CAD")


def test_an_order_id_is_placed_once(db):
    cfg = domain.put_config(db, 1, config())
    args = dict(payload_id="p1", order_date="2026-11-30", buyer_credentials=[], lines=[])
    first = domain.begin_order(db, cfg, "PO-1", "hash-a", **args)
    assert not first.replay
    again = domain.begin_order(db, cfg, "PO-1", "hash-a", **args)
    assert again.row.id == first.row.id and not again.replay   # not placed yet: resume
    domain.order_placed(first.row, cart_id=3, order_number="SO-0000001")
    assert domain.begin_order(db, cfg, "PO-1", "hash-a", **args).replay
    with pytest.raises(Conflict, match="other content"):
        domain.begin_order(db, cfg, "PO-1", "hash-b", **args)


def test_shipping_address_from_ship_to():
    full = {"name": "Acme", "line1": "1 King", "line2": None, "city": "Toronto", "region": "ON",
            "postal_code": "M5X", "country": "CA", "address_id": "X"}
    assert domain.shipping_address(full) == {k: full[k] for k in full if k != "address_id"}
    assert domain.shipping_address(dict(full, city=None)) is None
    assert domain.shipping_address(dict(full, country="CAN")) is None
    assert domain.shipping_address(None) is None


def _placed(db, url="https://buyer.test/cxml"):
    cfg = domain.put_config(db, 1, config(order_status_url=url))
    start = domain.begin_order(db, cfg, "PO-9", "h", payload_id="order-9@ariba",
                               order_date="2026-11-30T09:00:00-05:00", buyer_credentials=[],
                               lines=[{"line_number": 10, "part_number": "A-1", "quantity": "2"}])
    domain.order_placed(start.row, order_number="SO-0000009")
    db.flush()
    return cfg


def test_order_events_become_one_delivery_each(db):
    cfg = _placed(db)
    status = {"order_number": "SO-0000009", "company_id": 1, "status": "approved"}
    first = domain.status_changed(db, "e-1", status, now=T0)
    assert domain.status_changed(db, "e-1", status, now=T0).id == first.id   # redelivered event
    assert domain.status_changed(db, "e-2", dict(status, order_number="SO-OTHER")) is None
    assert domain.status_changed(db, "e-3", dict(status, company_id=2)) is None
    shipped = domain.shipped(db, "e-4", {"order_number": "SO-0000009", "company_id": 1,
                                         "shipment_id": 4, "carrier": "Purolator",
                                         "tracking_number": "PUR1", "shipped_at": "2026-12-01T10:00:00Z",
                                         "lines": [{"part_number": "A-1", "quantity": 2}]}, now=T0)
    assert db.scalar(select(StatusDelivery.id).where(StatusDelivery.kind == "ship_notice")) == shipped.id
    document = domain.delivery_document(shipped, cfg)
    root = cxml.parse_xml(document)
    assert root.get("payloadID") == shipped.payload_id
    assert root.findtext("Header/Sender/Credential/SharedSecret") == SECRET
    assert root.find("Request/ShipNoticeRequest/ShipNoticePortion/ShipNoticeItem").get("lineNumber") == "10"
    update = cxml.parse_xml(domain.delivery_document(first, cfg))
    assert update.find("Request/StatusUpdateRequest/DocumentReference").get("payloadID") == "order-9@ariba"
    # the secret is in the document sent, never in the table
    assert SECRET not in str(db.execute(text("SELECT content FROM punchout_deliveries")).all())


def test_no_status_url_no_delivery(db):
    _placed(db, url=None)
    assert domain.status_changed(db, "e-1", {"order_number": "SO-0000009", "company_id": 1,
                                             "status": "approved"}) is None


def test_deliveries_are_leased_retried_with_back_off_then_given_up(db):
    _placed(db)
    row = domain.status_changed(db, "e-1", {"order_number": "SO-0000009", "company_id": 1,
                                            "status": "shipped"}, now=T0)
    assert [r.id for r in domain.claim_deliveries(db, now=T0)] == [row.id]
    assert domain.claim_deliveries(db, now=T0 + timedelta(seconds=30)) == []   # leased
    assert not domain.delivery_failed(row, "HTTP 503", now=T0)
    assert row.next_attempt_at == T0 + timedelta(seconds=30)
    assert not domain.delivery_failed(row, "HTTP 503", now=T0)
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    for _ in range(domain.DELIVERY_ATTEMPTS - 3):
        assert not domain.delivery_failed(row, "HTTP 503", now=T0)
    assert domain.delivery_failed(row, "HTTP 503", now=T0)
    assert row.failed_at == T0
    assert domain.claim_deliveries(db, now=T0 + timedelta(days=1)) == []
    other = domain.status_changed(db, "e-2", {"order_number": "SO-0000009", "company_id": 1,
                                              "status": "delivered"}, now=T0)
    domain.delivered(other, now=T0)
    assert domain.claim_deliveries(db, now=T0 + timedelta(days=1)) == []


def test_a_config_row_is_one_per_company(db):
    domain.put_config(db, 1, config())
    domain.put_config(db, 1, config(sender={"domain": "DUNS", "identity": "555"}))
    db.commit()
    assert db.scalar(select(PunchoutConfig.sender_domain)) == "DUNS"
    with pytest.raises(Unauthorized):
        domain.authenticate_cxml(db, header())   # the old Sender no longer works
