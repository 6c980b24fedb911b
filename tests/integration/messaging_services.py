"""Two small services on the common messaging layer, used to test it on the real broker."""
import eventlet
from sqlalchemy import Column, Integer, String

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


class Subscriber(ServiceBase):
    name = "testsub"
    db = Database("testsub", Base)

    @event_handler("testpub", "thing_happened")
    def on_thing(self, event):
        note = event["payload"]["note"]
        self.db.add(Effect(event_id=event["event_id"], note=note))
        if note.startswith("slow"):
            self.db.flush()
            eventlet.sleep(0.5)  # its transaction stays open while another copy arrives
        if note.startswith("poison"):
            raise RuntimeError("cannot handle " + note)

    @rpc
    def effects(self, ctx):
        from sqlalchemy import select
        return [(e.event_id, e.note) for e in self.db.scalars(select(Effect).order_by(Effect.id))]
