"""What notifications decides: which emails an event causes, to whom, in which language,
whether the recipient's preferences and the suppression list allow an optional one, and
how an unsubscribe link works.

Handlers only enqueue: each message is rendered here and written as one row of
`outgoing_mail` in the handler's own transaction; the delivery worker sends it later.

Transactional mail (security, orders, approvals) is always sent. Optional mail (report
deliveries, marketing) honours the recipient's preferences (identity's
`email_preferences_changed`, kept here as a read model) and the suppression list, and
carries List-Unsubscribe headers (RFC 2369, one-click per RFC 8058).

Unsubscribe tokens are 32 random bytes (URL-safe base64), stored as their SHA-256 only:
the token table alone lets nobody unsubscribe anyone, there is no signing key to share
between instances or to rotate, and one token can be revoked without touching others.
The raw token exists only in the message itself, like every other link in an email: a
queued row holds the rendered body until the SMTP server accepts it, then the body is
cleared (queue.mark_sent); rows never to be sent (suppressed, invalid address) keep no body.
"""
import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timezone
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from services.common.config import env, public_url
from services.common.clock import utcnow
from services.common.errors import Invalid, NotFound
from services.notifications.models import (EmailPreference, OutgoingMail, Suppression,
                                           UnsubscribeToken)
from services.notifications.render import normalise_locale, parse_datetime, render
from services.notifications.statuses import FAILED, QUEUED, SUPPRESSED

log = logging.getLogger(__name__)

# kind of email -> category; the category decides whether preferences apply
CATEGORIES = {
    "set_password": "security", "password_reset": "security",
    "username_recovery": "security", "account_locked": "security",
    "email_confirmation": "security", "email_change_notice": "security",
    "order_confirmation": "orders", "order_shipped": "orders", "order_delivered": "orders",
    "invoice_issued": "orders", "invoice_copy_billing": "orders",
    "invoice_copy_confirmation": "orders", "subscription_card_missing": "orders",
    "subscription_renewed": "orders", "subscription_cancelled": "orders",
    "approval_request": "approvals", "approval_reminder": "approvals",
    "approval_escalated": "approvals", "order_approved": "approvals",
    "order_rejected": "approvals",
    "report_ready": "report_deliveries",
    "announcement": "marketing",
}
TRANSACTIONAL = ("security", "orders", "approvals")
# optional categories are also the unsubscribe streams, named like identity's preferences
STREAMS = ("marketing", "report_deliveries")


_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+\.[^@\s<>\"(),;:\\\[\]]+$")


def mail_from() -> str:
    return env("MAIL_FROM", "Procura <no-reply@procura.example>")


def mail_domain() -> str:
    sender = mail_from()
    match = re.search(r"@([^>\s]+)", sender)
    return match.group(1) if match else "procura.example"


def billing_email() -> str:
    return env("BILLING_EMAIL", "billing@procura.example")


def billing_locale() -> str:
    return normalise_locale(env("BILLING_LOCALE", "en"))


def unsubscribe_mailto() -> str:
    return env("UNSUBSCRIBE_MAILTO", f"unsubscribe@{mail_domain()}")


def normalise_address(address) -> str | None:
    """The address stripped, its domain lowercased; None when it is not an address."""
    text = str(address or "").strip()
    if not text or len(text) > 320 or not _ADDRESS.match(text):
        return None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def address_key(address: str) -> str:
    """How preferences and suppressions recognise an address."""
    return address.strip().lower()


def make_message_id(event_id: str, kind: str, address: str, domain: str | None = None) -> str:
    """The same event, kind and recipient always give the same Message-ID."""
    digest = hashlib.sha256(f"{event_id}/{kind}/{address_key(address)}".encode()).hexdigest()
    return f"<{digest[:40]}@{domain or mail_domain()}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


@dataclass
class Mail:
    """One email to queue: its kind, its recipient and what its templates need."""
    kind: str
    to: str
    locale: str
    context: dict = field(default_factory=dict)
    attachment: tuple | None = None  # (filename, content type, text)


def links() -> dict:
    base = public_url().rstrip("/")
    return {"public_url": base, "login_url": f"{base}/login",
            "forgot_password_url": f"{base}/forgot-password",
            "preferences_url": f"{base}/account/email-preferences",
            "invoices_url": f"{base}/invoices", "subscriptions_url": f"{base}/subscriptions",
            "cards_url": f"{base}/account/payment-cards", "reports_url": f"{base}/reports"}


def token_link(path: str, token: str) -> str:
    return f"{public_url().rstrip('/')}{path}?token={quote(str(token), safe='')}"


def order_url(number) -> str:
    return f"{public_url().rstrip('/')}/orders/{quote(str(number), safe='')}"


# --- preferences and suppressions -------------------------------------------------------

def record_preferences(session, user_id, email, preferences: dict, as_of=None):
    """Keep identity's latest email preferences of one user; an older event changes nothing."""
    as_of = _naive_utc(parse_datetime(as_of)) or utcnow()
    row = session.get(EmailPreference, user_id)
    if row is not None and row.as_of > as_of:
        return row
    if row is None:
        row = EmailPreference(user_id=user_id)
        session.add(row)
    row.email = address_key(email)
    for name in ("marketing", "order_updates", "report_deliveries"):
        if name in preferences and preferences[name] is not None:
            setattr(row, name, bool(preferences[name]))
        elif getattr(row, name) is None:
            setattr(row, name, True)
    row.as_of = as_of
    session.flush()
    return row


def preference_allows(session, address: str, stream: str) -> bool:
    """Unknown addresses may receive optional mail; any user of the address who turned the
    stream off turns it off for the address."""
    rows = session.scalars(select(EmailPreference)
                           .where(EmailPreference.email == address_key(address))).all()
    return all(getattr(row, stream, True) for row in rows)


def is_suppressed(session, address: str, stream: str) -> bool:
    return session.scalar(select(Suppression.id).where(
        Suppression.email == address_key(address), Suppression.stream == stream)) is not None


def suppress(session, address: str, stream: str, reason="unsubscribe", now=None) -> bool:
    """Add an address to the suppression list of a stream; True if it was not there yet.
    Queued optional mail of that stream to it is suppressed too."""
    key = address_key(address)
    added = False
    if not is_suppressed(session, key, stream):
        try:
            with session.begin_nested():
                session.add(Suppression(email=key, stream=stream, reason=reason,
                                        created_at=now or utcnow()))
            added = True
        except IntegrityError:
            pass  # a concurrent unsubscribe of the same address won
    session.execute(update(OutgoingMail)
                    .where(func.lower(OutgoingMail.recipient) == key,
                           OutgoingMail.category == stream, OutgoingMail.status == QUEUED)
                    .values(status=SUPPRESSED, last_error="unsubscribed before sending")
                    .execution_options(synchronize_session=False))
    return added


def recipient_status(session, address: str) -> dict:
    """Why an address does or does not get optional mail (support staff)."""
    key = address_key(address)
    rows = session.scalars(select(EmailPreference).where(EmailPreference.email == key)).all()
    suppressed = session.scalars(select(Suppression.stream).where(Suppression.email == key)).all()
    return {"email": key,
            "preferences": [{"user_id": r.user_id, "marketing": r.marketing,
                             "order_updates": r.order_updates,
                             "report_deliveries": r.report_deliveries} for r in rows],
            "suppressed": sorted(suppressed),
            "receives": {stream: stream not in suppressed
                         and preference_allows(session, key, stream) for stream in STREAMS}}


def new_unsubscribe_token(session, address: str, stream: str, locale: str) -> str:
    token = secrets.token_urlsafe(32)
    session.add(UnsubscribeToken(token_hash=hash_token(token), email=address_key(address),
                                 stream=stream, locale=locale, created_at=utcnow()))
    return token


def _token_row(session, token):
    if not token or not isinstance(token, str) or len(token) > 200:
        raise NotFound("this unsubscribe link is not valid", code="unsubscribe_link_invalid")
    row = session.get(UnsubscribeToken, hash_token(token))
    if row is None:
        raise NotFound("this unsubscribe link is not valid", code="unsubscribe_link_invalid")
    return row


def unsubscribe_info(session, token) -> dict:
    """What an unsubscribe link is for, without acting on it (the GET page)."""
    row = _token_row(session, token)
    return {"email": mask_email(row.email), "stream": row.stream, "locale": row.locale,
            "unsubscribed": is_suppressed(session, row.email, row.stream)}


def unsubscribe(session, token, now=None) -> dict:
    """One-click unsubscribe: the link's address gets no more mail of the link's stream.
    Using a link again is harmless and answers the same."""
    row = _token_row(session, token)
    suppress(session, row.email, row.stream, now=now)
    if row.used_at is None:
        row.used_at = now or utcnow()
    session.flush()
    return {"email": mask_email(row.email), "stream": row.stream, "locale": row.locale,
            "unsubscribed": True}


# --- queueing ---------------------------------------------------------------------------

def queue_mail(session, event_id: str, mail: Mail, now=None) -> OutgoingMail | None:
    """Render one email and add its row to the queue; None if this event already queued
    it (same Message-ID)."""
    category = CATEGORIES[mail.kind]
    locale = normalise_locale(mail.locale)
    address = normalise_address(mail.to)
    message_id = make_message_id(event_id, mail.kind, address or str(mail.to or "").strip())
    if _already_queued(session, message_id):
        return None
    now = now or utcnow()
    status, error, headers = QUEUED, None, {}
    context = dict(links(), **mail.context)
    if address is None:
        status, error = FAILED, "not a valid email address"
    elif category in STREAMS:
        if is_suppressed(session, address, category):
            status, error = SUPPRESSED, "address unsubscribed"
        elif not preference_allows(session, address, category):
            status, error = SUPPRESSED, "turned off in the email preferences"
        else:
            token = new_unsubscribe_token(session, address, category, locale)
            url = token_link("/api/v1/unsubscribe", token)
            context["unsubscribe_url"] = url
            headers = {"List-Unsubscribe":
                       f"<{url}>, <mailto:{unsubscribe_mailto()}?subject=unsubscribe%20{token}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    rendered = render(mail.kind, locale, **context)
    filename, content_type, content = mail.attachment or (None, None, None)
    text, html = rendered.text, rendered.html
    if status != QUEUED:
        # never sent: keep what it was (kind, subject, recipient), not what it said
        text, html, content = "", "", None
    row = OutgoingMail(message_id=message_id, event_id=event_id, kind=mail.kind,
                       category=category, recipient=address or str(mail.to or "")[:320],
                       locale=locale, subject=rendered.subject, body_text=text,
                       body_html=html, headers=headers or None,
                       attachment_filename=filename, attachment_content_type=content_type,
                       attachment=content, status=status, attempts=0, next_attempt_at=now,
                       last_error=error, created_at=now)
    session.add(row)
    if status == FAILED:
        log.warning("not queueing %s for event %s: %s", mail.kind, event_id, error)
    return row


def _already_queued(session, message_id) -> bool:
    for obj in session.new:
        if isinstance(obj, OutgoingMail) and obj.message_id == message_id:
            return True
    return session.scalar(select(OutgoingMail.id).where(
        OutgoingMail.message_id == message_id)) is not None


def queue_all(session, event_id: str, mails) -> list[OutgoingMail]:
    rows = [queue_mail(session, event_id, mail) for mail in mails]
    session.flush()
    return [row for row in rows if row is not None]


# --- what each event sends --------------------------------------------------------------

def _person_mail(kind, person, **context):
    return Mail(kind, person.get("email"), person.get("locale") or "en",
                dict(context, name=person.get("name") or ""))


def mails_for(source: str, event_type: str, payload: dict) -> list[Mail]:
    """The emails one event causes."""
    build = BUILDERS.get(source, {}).get(event_type)
    if build is None:
        raise KeyError(f"notifications has no email for {source}.{event_type}")
    return build(payload)


def _user_created(p):
    return [Mail("set_password", p["email"], p.get("locale"), {
        "first_name": p.get("first_name") or "", "username": p["username"],
        "link": token_link("/set-password", p["set_password_token"]),
        "expires_at": p.get("set_password_expires_at")})]


def _password_reset(p):
    return [Mail("password_reset", p["email"], p.get("locale"), {
        "first_name": p.get("first_name") or "",
        "link": token_link("/reset-password", p["token"]), "expires_at": p.get("expires_at")})]


def _username_recovery(p):
    return [Mail("username_recovery", p["email"], p.get("locale"),
                 {"usernames": list(p.get("usernames") or [])})]


def _email_change_requested(p):
    """The link that confirms the new address goes to it; the old address hears of it."""
    context = {"first_name": p.get("first_name") or "", "new_email": p["new_email"]}
    return [Mail("email_confirmation", p["new_email"], p.get("locale"), dict(
                context, link=token_link("/confirm-email", p["token"]),
                expires_at=p.get("expires_at"))),
            Mail("email_change_notice", p.get("old_email"), p.get("locale"), dict(
                context, reset_url=links()["forgot_password_url"]))]


def _user_locked(p):
    return [Mail("account_locked", p["email"], p.get("locale"), {
        "first_name": p.get("first_name") or "", "reset_url": links()["forgot_password_url"]})]


def _order_placed(p):
    return [_person_mail("order_confirmation", p["buyer"], order_number=p["order_number"],
                         placed_at=p.get("placed_at"), lines=p.get("lines") or [],
                         totals=p.get("totals") or {},
                         shipping_address=p.get("shipping_address"),
                         payment=p.get("payment") or {"method": ""},
                         order_url=order_url(p["order_number"]))]


def _approval_kind(kind):
    def build(p):
        url = f"{public_url().rstrip('/')}/approvals/{quote(str(p['approval_id']), safe='')}"
        # the triggering rules in the approver's language when approvals words them so
        words = p.get("rule_text") or {}
        return [_person_mail(kind, approver, buyer=p["buyer"], order_number=p["order_number"],
                             total=p.get("total"),
                             rule=words.get(approver.get("locale") or "en") or p.get("rule") or "",
                             approval_url=url)
                for approver in p.get("approvers") or []]
    return build


def decision_is_news(payload) -> bool:
    """Whether the buyer hears of an approval decision: not of the approval of an order no
    workflow applied to (`auto`), which its confirmation covered (that email says approval
    emails come only when an approval is needed)."""
    return not payload.get("auto")


def _decision_kind(kind):
    def build(p):
        if not decision_is_news(p):
            return []
        return [_person_mail(kind, p["buyer"], order_number=p["order_number"],
                             decided_by=p.get("decided_by"), comment=p.get("comment") or "",
                             order_url=order_url(p["order_number"]))]
    return build


def _order_shipped(p):
    return [_person_mail("order_shipped", p["buyer"], order_number=p["order_number"],
                         carrier=p.get("carrier") or "",
                         tracking_number=p.get("tracking_number") or "",
                         tracking_url=p.get("tracking_url"), shipped_at=p.get("shipped_at"),
                         lines=p.get("lines") or [], complete=p.get("complete", True),
                         order_url=order_url(p["order_number"]))]


def _order_delivered(p):
    return [_person_mail("order_delivered", p["buyer"], order_number=p["order_number"],
                         delivery_note=p.get("delivery_note"),
                         delivered_at=p.get("delivered_at"),
                         order_url=order_url(p["order_number"]))]


def _subscription_kind(kind):
    def build(p):
        return [_person_mail(kind, p["buyer"], subscription_id=p["subscription_id"],
                             product=p.get("name") or p.get("part_number") or "",
                             reason=p.get("reason") or "", renewal_on=p.get("renewal_on"),
                             order_number=p.get("order_number"), total=p.get("total"),
                             next_renewal_on=p.get("next_renewal_on"),
                             order_url=order_url(p["order_number"]) if p.get("order_number") else None,
                             subscriptions_url=links()["subscriptions_url"])]
    return build


def _invoice_issued(p):
    return [_person_mail("invoice_issued", p["buyer"], order_number=p["order_number"],
                         invoice_number=p["invoice_number"], total=p.get("total"),
                         issued_at=p.get("issued_at"))]


def _invoice_copy_requested(p):
    buyer = p["buyer"]
    # the copy goes where the request says, else to the buyer who asked for it
    send_to = p.get("billing_email") or buyer.get("email")
    common = {"order_number": p["order_number"], "invoice_number": p["invoice_number"],
              "send_to": send_to}
    return [Mail("invoice_copy_billing", billing_email(), billing_locale(),
                 dict(common, buyer=buyer, company_id=p.get("company_id"))),
            _person_mail("invoice_copy_confirmation", buyer, **common)]


def _report_ready(p):
    attachment = (p["filename"], "text/csv", p.get("csv") or "")
    return [Mail("report_ready", r.get("email"), r.get("locale"),
                 {"title": p.get("title") or p.get("report_key") or "", "filename": p["filename"]},
                 attachment=attachment)
            for r in p.get("recipients") or []]


# the emails of each event, by the service that publishes it
BUILDERS = {
    "identity": {
        "user_created": _user_created,
        "password_reset_requested": _password_reset,
        "username_recovery_requested": _username_recovery,
        "user_locked": _user_locked,
        "email_change_requested": _email_change_requested,
    },
    "orders": {
        "order_placed": _order_placed,
        "order_shipped": _order_shipped,
        "order_delivered": _order_delivered,
        "subscription_card_missing": _subscription_kind("subscription_card_missing"),
        "subscription_renewed": _subscription_kind("subscription_renewed"),
        "subscription_cancelled": _subscription_kind("subscription_cancelled"),
        "invoice_issued": _invoice_issued,
        "invoice_copy_requested": _invoice_copy_requested,
    },
    "approvals": {
        "approval_requested": _approval_kind("approval_request"),
        "approval_reminder": _approval_kind("approval_reminder"),
        "approval_escalated": _approval_kind("approval_escalated"),
        "order_approved": _decision_kind("order_approved"),
        "order_rejected": _decision_kind("order_rejected"),
    },
    "reporting": {
        "report_ready": _report_ready,
    },
}


def handle_event(session, source: str, event_type: str, event_id: str, payload: dict):
    """Queue every email an event causes, in the caller's transaction."""
    return queue_all(session, event_id, mails_for(source, event_type, payload))


def queue_announcement(session, subject: str, body: str, recipients,
                       announcement_id: str | None = None) -> dict:
    """A marketing email written by reseller staff, to each recipient in their language,
    honouring preferences and unsubscribes."""
    subject = " ".join(str(subject or "").split())
    body = str(body or "").strip()
    if not subject or not body:
        raise Invalid("an announcement needs a subject and a body",
                      errors={k: ["Missing data for required field."]
                              for k, v in (("subject", subject), ("body", body)) if not v})
    announcement_id = announcement_id or str(uuid.uuid4())
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
    mails = []
    for recipient in recipients or []:
        if isinstance(recipient, str):
            recipient = {"email": recipient}
        mails.append(Mail("announcement", recipient.get("email"), recipient.get("locale"),
                          {"heading": subject, "body": body, "paragraphs": paragraphs}))
    rows = queue_all(session, announcement_id, mails)
    counts = {"queued": 0, "suppressed": 0, "failed": 0}
    for row in rows:
        counts[{QUEUED: "queued", SUPPRESSED: "suppressed"}.get(row.status, "failed")] += 1
    return dict(counts, announcement_id=announcement_id)


def _naive_utc(moment):
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def list_mail(session, recipient=None, status=None, limit=50, cursor=None) -> dict:
    """Outgoing messages, newest first, for operators: `{items, next_cursor}`."""
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc())
    if recipient:
        query = query.where(func.lower(OutgoingMail.recipient) == address_key(recipient))
    if status:
        query = query.where(OutgoingMail.status == status)
    if cursor:
        try:
            query = query.where(OutgoingMail.id < int(cursor))
        except ValueError:
            raise Invalid("not a cursor of this list", errors={"cursor": ["Not valid."]})
    rows = session.scalars(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1].id) if more and rows else None}
