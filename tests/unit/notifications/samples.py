"""Event payloads as the other services publish them (docs/EVENTS.md), for notifications'
tests."""
import uuid


def person(email, name, locale, user_id=None):
    return {"user_id": user_id, "email": email, "name": name, "locale": locale}


def money(amount, currency="CAD"):
    return {"amount": amount, "currency": currency}


ALICE = person("alice@acme.example", "Alice Martin", "en", 11)
BRUNO = person("bruno@acme.example", "Bruno Tremblay", "fr", 12)
CHLOE = person("chloe@acme.example", "Chloé Gagnon", "fr", 13)
DAVID = person("david@acme.example", "David Lee", "en", 14)

CSV = "part_number,quantity,total\r\nLT-100,2,2400.00\r\nMS-7,1,35.50\r\n"


def payloads(locale="en"):
    """(source, type, payload) for every event notifications handles; the buyer and the
    user concerned speak `locale`."""
    buyer = ALICE if locale == "en" else BRUNO
    return [
        ("identity", "user_created", {
            "user_id": buyer["user_id"], "company_id": 1, "username": "amartin",
            "email": buyer["email"], "first_name": buyer["name"].split()[0],
            "last_name": buyer["name"].split()[1], "locale": locale,
            "set_password_token": "setpw-Tok/en+1", "set_password_expires_at": "2026-11-29T10:00:00Z"}),
        ("identity", "password_reset_requested", {
            "user_id": buyer["user_id"], "email": buyer["email"],
            "first_name": buyer["name"].split()[0], "locale": locale,
            "token": "reset-token-123", "expires_at": "2026-11-23T10:00:00Z"}),
        ("identity", "username_recovery_requested", {
            "email": buyer["email"], "locale": locale, "usernames": ["amartin", "amartin2"]}),
        ("identity", "email_change_requested", {
            "user_id": buyer["user_id"], "old_email": buyer["email"],
            "new_email": "new." + buyer["email"], "first_name": buyer["name"].split()[0],
            "locale": locale, "token": "confirm-token-456",
            "expires_at": "2026-11-23T10:00:00Z"}),
        ("identity", "user_locked", {
            "user_id": buyer["user_id"], "email": buyer["email"],
            "first_name": buyer["name"].split()[0], "locale": locale}),
        ("orders", "order_placed", {
            "order_id": 7, "order_number": "PO-2026-0007", "company_id": 1,
            "user_id": buyer["user_id"], "buyer": buyer, "currency": "CAD",
            "lines": [
                {"part_number": "LT-100", "mfg_part_number": "20XK-001", "name": "ThinkPad T14",
                 "manufacturer": "Lenovo", "category": "laptops", "quantity": 2,
                 "unit_price": money("1200.00"), "line_total": money("2400.00"),
                 "price_source": "contract", "on_contract": True},
                {"part_number": "MS-7", "mfg_part_number": None, "name": "Wireless mouse",
                 "manufacturer": "Logi", "category": "accessories", "quantity": 1,
                 "unit_price": money("35.50"), "line_total": money("35.50"),
                 "price_source": "list", "on_contract": False}],
            "totals": {"subtotal": money("2435.50"), "total": money("2435.50")},
            "shipping_address": {"name": "Acme HQ", "line1": "1 Main St", "line2": "Floor 3",
                                 "city": "Montréal", "region": "QC", "postal_code": "H2X 1Y4",
                                 "country": "CA"},
            "payment": {"method": "purchase_order", "po_number": "PO-778"},
            "placed_at": "2026-11-22T10:05:00Z"}),
        ("approvals", "approval_requested", {
            "approval_id": 31, "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "approvers": [CHLOE, DAVID], "rule": "Order total over 2,000.00 CAD",
            "total": money("2435.50")}),
        ("approvals", "approval_reminder", {
            "approval_id": 31, "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "approvers": [CHLOE], "rule": "Order total over 2,000.00 CAD",
            "total": money("2435.50")}),
        ("approvals", "approval_escalated", {
            "approval_id": 31, "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "approvers": [DAVID], "rule": "Order total over 2,000.00 CAD",
            "total": money("2435.50")}),
        ("approvals", "order_approved", {
            "approval_id": 31, "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "decided_by": CHLOE, "comment": "OK for Q4 budget"}),
        ("approvals", "order_rejected", {
            "approval_id": 32, "order_number": "PO-2026-0008", "company_id": 1, "buyer": buyer,
            "decided_by": DAVID, "comment": "Use the standard model"}),
        ("orders", "order_shipped", {
            "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "carrier": "Purolator", "tracking_number": "PUR123456",
            "tracking_url": "https://www.purolator.com/track?pin=PUR123456",
            "shipped_at": "2026-11-24T15:30:00Z"}),
        ("orders", "order_delivered", {
            "order_number": "PO-2026-0007", "company_id": 1, "buyer": buyer,
            "delivery_note": "DN-5521", "delivered_at": "2026-11-26T09:00:00Z"}),
        ("orders", "invoice_issued", {
            "order_number": "PO-2026-0007", "invoice_number": "INV-9001", "company_id": 1,
            "buyer": buyer, "total": money("2435.50"), "issued_at": "2026-11-27T00:00:00Z"}),
        ("orders", "invoice_copy_requested", {
            "order_number": "PO-2026-0007", "invoice_number": "INV-9001", "company_id": 1,
            "buyer": buyer, "billing_email": "ap@acme.example"}),
        ("orders", "subscription_card_missing", {
            "subscription_id": 6, "buyer": buyer, "part_number": "MS-365-BP",
            "name": "Microsoft 365 Business Premium", "reason": "card_removed",
            "renewal_on": "2026-12-05"}),
        ("orders", "subscription_renewed", {
            "subscription_id": 6, "buyer": buyer, "part_number": "MS-365-BP",
            "name": "Microsoft 365 Business Premium", "order_number": "SO-0000042",
            "renewed_for": "2026-12-05", "next_renewal_on": "2027-01-05", "total": money("29.40")}),
        ("orders", "subscription_cancelled", {
            "subscription_id": 6, "buyer": buyer, "part_number": "MS-365-BP",
            "name": "Microsoft 365 Business Premium", "reason": "card_expired",
            "cancelled_at": "2026-12-05T00:00:00Z"}),
        ("reporting", "report_ready", {
            "report_key": "spend_by_category", "title": "Spend by category",
            "recipients": [{"email": buyer["email"], "locale": locale}],
            "filename": "spend-by-category-2026-11.csv", "csv": CSV}),
    ]


def envelope(source, event_type, payload, event_id=None):
    return {"event_id": event_id or str(uuid.uuid4()), "type": event_type, "source": source,
            "occurred_at": "2026-11-22T10:00:00Z", "request_id": "test", "payload": payload}
