"""The approvals service: entrypoints only; the rules are in domain.py."""
from services.approvals import domain
from services.approvals.models import Base
from services.common.base import ServiceBase
from services.common.db import Database
from services.common.entrypoints import event_handler
from services.common.outbox import OutboxRelay


class ApprovalsService(ServiceBase):
    name = "approvals"
    db = Database("approvals", Base)
    relay = OutboxRelay()

    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        domain.order_placed(self.db, event["payload"])
