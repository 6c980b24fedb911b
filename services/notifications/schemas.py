"""What notifications accepts (event payloads of docs/EVENTS.md, RPC arguments) and what it
replies. Event schemas check what an email needs and ignore what it does not, so a
producer may add fields freely."""
from marshmallow import EXCLUDE, Schema, fields, validate

from services.notifications.statuses import STATUSES
from services.common.schemas import page_of


class Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


def _str(required=False):
    if required:
        return fields.String(required=True)
    return fields.String(load_default=None, allow_none=True)


class Person(Lenient):
    user_id = fields.Raw(load_default=None, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    name = fields.String(load_default="", allow_none=True)
    locale = fields.String(load_default="en", allow_none=True)


class Money(Lenient):
    amount = fields.Raw(required=True)
    currency = fields.String(required=True)


class Address(Lenient):
    name = fields.String(load_default="", allow_none=True)
    line1 = fields.String(load_default="", allow_none=True)
    line2 = fields.String(load_default=None, allow_none=True)
    city = fields.String(load_default="", allow_none=True)
    region = fields.String(load_default=None, allow_none=True)
    postal_code = fields.String(load_default="", allow_none=True)
    country = fields.String(load_default="", allow_none=True)


class Payment(Lenient):
    method = fields.String(load_default="", allow_none=True)
    card_id = fields.Raw(load_default=None, allow_none=True)
    po_number = fields.String(load_default=None, allow_none=True)


class ShipmentLine(Lenient):
    part_number = fields.String(required=True)
    name = _str()
    quantity = fields.Integer(required=True)


class OrderLine(Lenient):
    part_number = fields.String(required=True)
    mfg_part_number = _str()
    name = fields.String(required=True)
    manufacturer = _str()
    category = _str()
    quantity = fields.Integer(required=True)
    unit_price = fields.Nested(Money, required=True)
    line_total = fields.Nested(Money, required=True)


class AccountMail(Lenient):
    """What every email about a user's own account needs: who and in which language."""
    user_id = fields.Raw(load_default=None)
    email = fields.String(required=True, allow_none=True)
    first_name = _str()
    locale = _str()


class UserCreated(AccountMail):
    company_id = fields.Raw(load_default=None)
    username = fields.String(required=True)
    last_name = _str()
    set_password_token = fields.String(required=True)
    set_password_expires_at = _str()


class PasswordResetRequested(AccountMail):
    token = fields.String(required=True)
    expires_at = _str()


class UsernameRecoveryRequested(Lenient):
    email = fields.String(required=True, allow_none=True)
    locale = _str()
    usernames = fields.List(fields.String(), load_default=list)


class EmailChangeRequested(Lenient):
    user_id = fields.Raw(load_default=None)
    old_email = fields.String(required=True, allow_none=True)
    new_email = fields.String(required=True)
    first_name = _str()
    locale = _str()
    token = fields.String(required=True)
    expires_at = _str()


class UserLocked(AccountMail):
    """user_locked: whom to tell, nothing more."""


class Preferences(Lenient):
    marketing = fields.Boolean(load_default=None, allow_none=True)
    order_updates = fields.Boolean(load_default=None, allow_none=True)
    report_deliveries = fields.Boolean(load_default=None, allow_none=True)


class EmailPreferencesChanged(Lenient):
    user_id = fields.Integer(required=True)
    email = fields.String(required=True, allow_none=True)
    preferences = fields.Nested(Preferences, required=True)


class OrderMail(Lenient):
    """What every email about an order needs: the order and the buyer it goes to."""
    order_number = fields.String(required=True)
    company_id = fields.Raw(load_default=None)
    buyer = fields.Nested(Person, required=True)


class OrderPlaced(OrderMail):
    order_id = fields.Raw(load_default=None)
    currency = _str()
    lines = fields.List(fields.Nested(OrderLine), required=True)
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(Money, allow_none=True),
                         required=True)
    shipping_address = fields.Nested(Address, load_default=None, allow_none=True)
    payment = fields.Nested(Payment, load_default=dict)
    placed_at = _str()


class ApprovalRequested(OrderMail):
    """approval_requested, approval_reminder and approval_escalated."""
    approval_id = fields.Raw(required=True)
    approvers = fields.List(fields.Nested(Person), required=True)
    rule = fields.String(load_default="", allow_none=True)
    rule_text = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    total = fields.Nested(Money, load_default=None, allow_none=True)


class ApprovalDecided(OrderMail):
    """order_approved and order_rejected."""
    approval_id = fields.Raw(load_default=None)
    decided_by = fields.Nested(Person, load_default=None, allow_none=True)
    comment = fields.String(load_default="", allow_none=True)
    auto = fields.Boolean(load_default=False)


class OrderShipped(OrderMail):
    carrier = fields.String(load_default="", allow_none=True)
    tracking_number = fields.String(load_default="", allow_none=True)
    tracking_url = _str()
    shipped_at = _str()
    lines = fields.List(fields.Nested(ShipmentLine), load_default=list)
    complete = fields.Boolean(load_default=True)


class OrderDelivered(OrderMail):
    delivery_note = _str()
    delivered_at = _str()


class InvoiceMail(OrderMail):
    invoice_number = fields.String(required=True)


class InvoiceIssued(InvoiceMail):
    total = fields.Nested(Money, load_default=None, allow_none=True)
    issued_at = _str()


class InvoiceCopyRequested(InvoiceMail):
    billing_email = _str()


class ReportRecipient(Lenient):
    email = fields.String(required=True, allow_none=True)
    locale = fields.String(load_default="en", allow_none=True)


class ReportReady(Lenient):
    report_key = _str()
    title = _str()
    recipients = fields.List(fields.Nested(ReportRecipient), required=True)
    filename = fields.String(required=True)
    csv = fields.String(required=True)


# --- RPC ---------------------------------------------------------------------------------

class Announcement(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    recipients = fields.List(fields.Nested(ReportRecipient), required=True,
                             validate=validate.Length(min=1, max=5000))


class AnnouncementResult(Schema):
    announcement_id = fields.String()
    queued = fields.Integer()
    suppressed = fields.Integer()
    failed = fields.Integer()


class UnsubscribeResult(Schema):
    email = fields.String(metadata={"description": "the address, masked: j***@example.com"})
    stream = fields.String(metadata={"description": "marketing or report_deliveries"})
    locale = fields.String(metadata={"description": "the recipient's language (en or fr)"})
    unsubscribed = fields.Boolean()


class MailQuery(Schema):
    recipient = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, allow_none=True)


class OutgoingMailOut(Schema):
    id = fields.Integer()
    message_id = fields.String()
    event_id = fields.String()
    kind = fields.String()
    category = fields.String()
    recipient = fields.String()
    locale = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime()
    next_attempt_at = fields.DateTime()


MailPage = page_of(OutgoingMailOut, "MailPage")


class SubscriptionEvent(Lenient):
    """subscription_card_missing, subscription_renewed and subscription_cancelled."""
    subscription_id = fields.Raw(required=True)
    company_id = fields.Raw(load_default=None)
    buyer = fields.Nested(Person, required=True)
    part_number = _str()
    name = _str()
    reason = _str()
    renewal_on = _str()
    order_number = _str()
    next_renewal_on = _str()
    total = fields.Nested(Money, load_default=None, allow_none=True)


class UnsubscribeQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # links get tracking parameters appended; ignore them

    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
