"""A small service that publishes other services' events through the common outbox, so
notifications receives them exactly as in production (relay, exchange, routing key)."""
from sqlalchemy import select

from services.common.base import ServiceBase
from services.common.entrypoints import rpc
from services.common.outbox import emit
from services.common.relay import OutboxRelay
from services.common.tables import make_base
from services.common.unit_of_work import Database

Base = make_base()


class EventSource(ServiceBase):
    name = "eventsource"
    db = Database("eventsource", Base)
    relay = OutboxRelay(interval=0.2)

    @rpc
    def emit_many(self, ctx, events):
        """events: [[source, type, payload], ...] → their event ids, in order."""
        return [emit(self.db, source, event_type, payload).event_id
                for source, event_type, payload in events]

    @rpc
    def unpublished(self, ctx):
        model = Base.OutboxEvent
        return len(self.db.scalars(select(model.id).where(model.sent_at.is_(None))).all())
