"""The notifications service: turns events into emails and delivers them.

Every handler only queues: it renders the messages and writes them to the outgoing mail
table in its own transaction (committed before the event is acknowledged); the delivery
worker (`MailDelivery`, delivery.py) sends them over SMTP.

Configuration (environment):
- SMTP_HOST (127.0.0.1), SMTP_PORT (1025), SMTP_TLS (none|starttls|ssl), SMTP_USERNAME,
  SMTP_PASSWORD, SMTP_TIMEOUT (30 s), MAIL_FROM ("Procura <no-reply@procura.example>");
- MAIL_SENDERS (4 per instance), MAIL_BATCH (20), MAIL_POLL_INTERVAL (1 s),
  MAIL_CONNECTION_IDLE (30 s an idle sender keeps its SMTP connection),
  MAIL_CLAIM_LEASE (300 s), MAIL_RETRY_BASE (2 s), MAIL_RETRY_MAX (3600 s),
  MAIL_MAX_ATTEMPTS (25), MAIL_DELIVERY=off for an instance that only queues;
- BILLING_EMAIL (billing@procura.example) and BILLING_LOCALE (en) for invoice copy
  requests, UNSUBSCRIBE_MAILTO (unsubscribe@<MAIL_FROM's domain>), PUBLIC_URL for links.
"""
from services.common.base import ServiceBase
from services.common.unit_of_work import Database
from services.common.entrypoints import event_handler, rpc
from services.common.errors import Forbidden
from services.common.schemas import load, load_args
from services.notifications import domain, queue, schemas
from services.notifications.delivery import MailDelivery
from services.notifications.models import Base


def _staff_only(ctx):
    if not ctx.staff:
        raise Forbidden("this is for reseller staff")


class NotificationsService(ServiceBase):
    name = "notifications"
    db = Database("notifications", Base)
    delivery = MailDelivery()

    def _queue(self, source, event_type, event, schema):
        payload = schema.load(event["payload"])
        rows = domain.handle_event(self.db, source, event_type, event["event_id"], payload)
        if rows:
            # the Database runs its after-commit hooks (delivery.kick) when this flag is set
            self.db.info["after_commit"] = True
        return len(rows)

    # --- identity ----------------------------------------------------------------------

    @event_handler("identity", "user_created")
    def on_user_created(self, event):
        self._queue("identity", "user_created", event, schemas.UserCreated())

    @event_handler("identity", "password_reset_requested")
    def on_password_reset_requested(self, event):
        self._queue("identity", "password_reset_requested", event,
                    schemas.PasswordResetRequested())

    @event_handler("identity", "username_recovery_requested")
    def on_username_recovery_requested(self, event):
        self._queue("identity", "username_recovery_requested", event,
                    schemas.UsernameRecoveryRequested())

    @event_handler("identity", "user_locked")
    def on_user_locked(self, event):
        self._queue("identity", "user_locked", event, schemas.UserLocked())

    @event_handler("identity", "email_change_requested")
    def on_email_change_requested(self, event):
        self._queue("identity", "email_change_requested", event, schemas.EmailChangeRequested())

    @event_handler("identity", "email_preferences_changed")
    def on_email_preferences_changed(self, event):
        payload = schemas.EmailPreferencesChanged().load(event["payload"])
        if not payload["email"]:
            return  # no address: nothing will be sent to this user anyway
        domain.record_preferences(self.db, payload["user_id"], payload["email"],
                                  payload["preferences"], as_of=event.get("occurred_at"))

    # --- orders ------------------------------------------------------------------------

    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        self._queue("orders", "order_placed", event, schemas.OrderPlaced())

    @event_handler("orders", "order_shipped")
    def on_order_shipped(self, event):
        self._queue("orders", "order_shipped", event, schemas.OrderShipped())

    @event_handler("orders", "order_delivered")
    def on_order_delivered(self, event):
        self._queue("orders", "order_delivered", event, schemas.OrderDelivered())

    @event_handler("orders", "invoice_issued")
    def on_invoice_issued(self, event):
        self._queue("orders", "invoice_issued", event, schemas.InvoiceIssued())

    @event_handler("orders", "invoice_copy_requested")
    def on_invoice_copy_requested(self, event):
        self._queue("orders", "invoice_copy_requested", event, schemas.InvoiceCopyRequested())

    @event_handler("orders", "subscription_card_missing")
    def on_subscription_card_missing(self, event):
        self._queue("orders", "subscription_card_missing", event, schemas.SubscriptionEvent())

    @event_handler("orders", "subscription_renewed")
    def on_subscription_renewed(self, event):
        self._queue("orders", "subscription_renewed", event, schemas.SubscriptionEvent())

    @event_handler("orders", "subscription_cancelled")
    def on_subscription_cancelled(self, event):
        self._queue("orders", "subscription_cancelled", event, schemas.SubscriptionEvent())

    # --- approvals ---------------------------------------------------------------------

    @event_handler("approvals", "approval_requested")
    def on_approval_requested(self, event):
        self._queue("approvals", "approval_requested", event, schemas.ApprovalRequested())

    @event_handler("approvals", "approval_reminder")
    def on_approval_reminder(self, event):
        self._queue("approvals", "approval_reminder", event, schemas.ApprovalRequested())

    @event_handler("approvals", "approval_escalated")
    def on_approval_escalated(self, event):
        self._queue("approvals", "approval_escalated", event, schemas.ApprovalRequested())

    @event_handler("approvals", "order_approved")
    def on_order_approved(self, event):
        self._queue("approvals", "order_approved", event, schemas.ApprovalDecided())

    @event_handler("approvals", "order_rejected")
    def on_order_rejected(self, event):
        self._queue("approvals", "order_rejected", event, schemas.ApprovalDecided())

    # --- reporting ---------------------------------------------------------------------

    @event_handler("reporting", "report_ready")
    def on_report_ready(self, event):
        self._queue("reporting", "report_ready", event, schemas.ReportReady())

    # --- RPC ---------------------------------------------------------------------------

    @rpc
    def unsubscribe(self, ctx, token=None):
        """One-click unsubscribe (RFC 8058): the link's address joins the suppression list
        of the link's stream. Anyone holding the link may use it."""
        token = load_args(schemas.UnsubscribeQuery(), token=token)["token"]
        return schemas.UnsubscribeResult().dump(domain.unsubscribe(self.db, token))

    @rpc
    def unsubscribe_info(self, ctx, token=None):
        """What an unsubscribe link is for, without using it."""
        token = load_args(schemas.UnsubscribeQuery(), token=token)["token"]
        return schemas.UnsubscribeResult().dump(domain.unsubscribe_info(self.db, token))

    @rpc
    def send_announcement(self, ctx, subject, body, recipients):
        """Marketing mail from reseller staff; honours preferences and unsubscribes."""
        _staff_only(ctx)
        recipients = [{"email": r} if isinstance(r, str) else r for r in recipients or []] \
            if isinstance(recipients, list) else recipients
        data = load(schemas.Announcement(),
                     {"subject": subject, "body": body, "recipients": recipients})
        result = domain.queue_announcement(self.db, data["subject"], data["body"],
                                           data["recipients"])
        if result["queued"]:
            self.db.info["after_commit"] = True
        return schemas.AnnouncementResult().dump(result)

    @rpc
    def recipient_status(self, ctx, email):
        """An address's preferences, unsubscribes, and which optional mail it gets (staff):
        `{email, preferences: [...], suppressed: [stream], receives: {stream: bool}}`."""
        _staff_only(ctx)
        return domain.recipient_status(self.db, email)

    @rpc
    def mail_queue_stats(self, ctx):
        """Messages by status and the age of the oldest one waiting (staff)."""
        _staff_only(ctx)
        return queue.stats(self.db)

    @rpc
    def outgoing_mail(self, ctx, recipient=None, status=None, limit=50, cursor=None):
        """Outgoing messages, newest first (staff): `{items, next_cursor}`."""
        _staff_only(ctx)
        query = load(schemas.MailQuery(), {"recipient": recipient, "status": status,
                                            "limit": limit, "cursor": cursor})
        return schemas.MailPage().dump(domain.list_mail(self.db, **query))

    @rpc
    def requeue_failed(self, ctx, mail_ids=None):
        """Give failed messages a fresh attempt budget (staff): `{requeued}`."""
        _staff_only(ctx)
        count = queue.requeue(self.db, mail_ids)
        if count:
            self.db.info["after_commit"] = True
        return {"requeued": count}
