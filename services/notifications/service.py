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
from services.common.access import require_staff
from services.common.base import ServiceBase
from services.common.entrypoints import event_handler, handler_for, rpc
from services.common.schemas import load, load_args
from services.notifications import domain, queue, schemas
from services.notifications.delivery import MailDelivery
from services.notifications.models import Base


def queues_mail(source, event_type, schema, when=None):
    """The handler `on_<event_type>`, which queues the emails of an event whose payload
    `schema` (a class) loads; with `when(payload)`, only of the events it says yes to (the
    others are acknowledged with no transaction)."""
    return handler_for(source, event_type,
                       lambda self, event: self._queue(source, event_type, event, schema()),
                       when=when)


class NotificationsService(ServiceBase, name="notifications", models=Base, relay=False):
    delivery = MailDelivery()

    def _queue(self, source, event_type, event, schema):
        payload = schema.load(event["payload"])
        rows = domain.handle_event(self.db, source, event_type, event["event_id"], payload)
        if rows:
            # the Database runs its after-commit hooks (delivery.kick) when this flag is set
            self.db.info["after_commit"] = True
        return len(rows)

    # --- identity ----------------------------------------------------------------------

    on_user_created = queues_mail("identity", "user_created", schemas.UserCreated)
    on_password_reset_requested = queues_mail("identity", "password_reset_requested",
                                              schemas.PasswordResetRequested)
    on_username_recovery_requested = queues_mail("identity", "username_recovery_requested",
                                                 schemas.UsernameRecoveryRequested)
    on_user_locked = queues_mail("identity", "user_locked", schemas.UserLocked)
    on_email_change_requested = queues_mail("identity", "email_change_requested",
                                            schemas.EmailChangeRequested)

    @event_handler("identity", "email_preferences_changed")
    def on_email_preferences_changed(self, event):
        payload = schemas.EmailPreferencesChanged().load(event["payload"])
        if not payload["email"]:
            return  # no address: nothing will be sent to this user anyway
        domain.record_preferences(self.db, payload["user_id"], payload["email"],
                                  payload["preferences"], as_of=event.get("occurred_at"))

    # --- orders ------------------------------------------------------------------------

    on_order_placed = queues_mail("orders", "order_placed", schemas.OrderPlaced)
    on_order_shipped = queues_mail("orders", "order_shipped", schemas.OrderShipped)
    on_order_delivered = queues_mail("orders", "order_delivered", schemas.OrderDelivered)
    on_invoice_issued = queues_mail("orders", "invoice_issued", schemas.InvoiceIssued)
    on_invoice_copy_requested = queues_mail("orders", "invoice_copy_requested",
                                            schemas.InvoiceCopyRequested)
    on_subscription_card_missing = queues_mail("orders", "subscription_card_missing",
                                               schemas.SubscriptionEvent)
    on_subscription_renewed = queues_mail("orders", "subscription_renewed",
                                          schemas.SubscriptionEvent)
    on_subscription_cancelled = queues_mail("orders", "subscription_cancelled",
                                            schemas.SubscriptionEvent)

    # --- approvals ---------------------------------------------------------------------

    on_approval_requested = queues_mail("approvals", "approval_requested",
                                        schemas.ApprovalRequested)
    on_approval_reminder = queues_mail("approvals", "approval_reminder", schemas.ApprovalRequested)
    on_approval_escalated = queues_mail("approvals", "approval_escalated",
                                        schemas.ApprovalRequested)
    on_order_approved = queues_mail("approvals", "order_approved", schemas.ApprovalDecided,
                                    when=domain.decision_is_news)
    on_order_rejected = queues_mail("approvals", "order_rejected", schemas.ApprovalDecided)

    # --- reporting ---------------------------------------------------------------------

    on_report_ready = queues_mail("reporting", "report_ready", schemas.ReportReady)

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
        require_staff(ctx)
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
        require_staff(ctx)
        return domain.recipient_status(self.db, email)

    @rpc
    def mail_queue_stats(self, ctx):
        """Messages by status and the age of the oldest one waiting (staff)."""
        require_staff(ctx)
        return queue.stats(self.db)

    @rpc
    def outgoing_mail(self, ctx, recipient=None, status=None, limit=50, cursor=None):
        """Outgoing messages, newest first (staff): `{items, next_cursor}`."""
        require_staff(ctx)
        query = load(schemas.MailQuery(), {"recipient": recipient, "status": status,
                                            "limit": limit, "cursor": cursor})
        return schemas.MailPage().dump(domain.list_mail(self.db, **query))

    @rpc
    def requeue_failed(self, ctx, mail_ids=None):
        """Give failed messages a fresh attempt budget (staff): `{requeued}`."""
        require_staff(ctx)
        count = queue.requeue(self.db, mail_ids)
        if count:
            self.db.info["after_commit"] = True
        return {"requeued": count}
