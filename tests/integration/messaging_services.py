"""Two small services on the common messaging layer, used to test it on the real broker."""
import collections

from nameko.extensions import DependencyProvider
from sqlalchemy import Column, Integer, String

from tests.support.waiting import wait_for

from services.common.base import ServiceBase
from services.common.entrypoints import event_handler, rpc
from services.common.errors import NotFound
from services.common.outbox import emit
from services.common.relay import OutboxRelay
from services.common.rpc_client import RpcClient
from services.common.tables import make_base
from services.common.unit_of_work import Database

Base = make_base()


class Effect(Base):
    __tablename__ = "effects"
    id = Column(Integer, primary_key=True)
    event_id = Column(String(36))
    note = Column(String(100))


class Publisher(ServiceBase):
    name = "testpub"
    db = Database("testpub", Base)
    relay = OutboxRelay(interval=0.2)
    sub = RpcClient("testsub")

    @rpc
    def publish(self, ctx, note):
        emit(self.db, "testpub", "thing_happened", {"note": note})
        return note

    @rpc
    def fail_after_emit(self, ctx, note):
        emit(self.db, "testpub", "thing_happened", {"note": note})
        raise NotFound("no such thing")

    @rpc
    def call_sub(self, ctx):
        return self.sub.ping(ctx)


class Arrivals(DependencyProvider):
    """How many deliveries of each event have reached the service, counted as each worker
    starts (before the handler records the event as processed)."""
    seen = collections.Counter()

    def worker_setup(self, worker_ctx):
        event = worker_ctx.args[0] if worker_ctx.args else None
        if isinstance(event, dict) and "event_id" in event:
            self.seen[event["event_id"]] += 1

    def get_dependency(self, worker_ctx):
        return self.seen


class Subscriber(ServiceBase):
    name = "testsub"
    db = Database("testsub", Base)
    arrivals = Arrivals()

    @event_handler("testpub", "thing_happened")
    def on_thing(self, event):
        note = event["payload"]["note"]
        effect = Effect(event_id=event["event_id"], note=note)
        self.db.add(effect)
        if note.startswith("together"):
            # this transaction, which recorded the event, stays open until a second copy of
            # the event is being handled; "alone" says it never came
            self.db.flush()
            try:
                wait_for(lambda: self.arrivals[event["event_id"]] >= 2,
                         message="the event's second copy")
            except AssertionError:
                effect.note = note + ", alone"
        if note.startswith("poison"):
            raise RuntimeError("cannot handle " + note)

    @rpc
    def effects(self, ctx):
        from sqlalchemy import select
        return [(e.event_id, e.note) for e in self.db.scalars(select(Effect).order_by(Effect.id))]
