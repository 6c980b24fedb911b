"""An event handler that acts on some events of its type only (`event_handler(...,
when=...)`) acknowledges the others untouched: no transaction, no processed-event record.
On the real broker, with one worker so that events are handled in the order published."""
import pytest
from kombu import Connection
from nameko.events import get_event_exchange
from sqlalchemy import select

from services.common.base import ServiceBase
from services.common.context import CallerContext
from services.common.entrypoints import event_handler, rpc
from services.common.unit_of_work import Database
from tests.integration.messaging_services import Base, Effect
from tests.support.databases import create_database
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
CTX = CallerContext(user_id=1, company_id=1).to_dict()


class Choosy(ServiceBase):
    name = "testchoosy"
    db = Database("testchoosy", Base)

    @event_handler("testpub", "thing_happened",
                   when=lambda payload: not payload["note"].startswith("skip"))
    def on_thing(self, event):
        self.db.add(Effect(event_id=event["event_id"], note=event["payload"]["note"]))

    @rpc
    def seen(self, ctx):
        processed = Base.ProcessedEvent
        return {"effects": [e.note for e in self.db.scalars(select(Effect).order_by(Effect.id))],
                "processed": sorted(self.db.scalars(select(processed.event_id)))}


@pytest.fixture
def choosy_db(tmp_path, monkeypatch):
    from services.common.engines import make_engine
    url, drop = create_database("testchoosy", tmp_path)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("TESTCHOOSY_DATABASE_URL", url)
    yield
    drop()


def test_events_the_handler_does_not_want_leave_no_trace(choosy_db, start_service, procura_env):
    start_service(Choosy, max_workers=1)
    exchange = get_event_exchange("testpub", {})
    events = [{"event_id": f"0b7c3f0e-2222-4a8c-9a9e-00000000000{n}", "type": "thing_happened",
               "source": "testpub", "occurred_at": "2026-11-22T10:00:00Z", "request_id": "r",
               "payload": {"note": note}} for n, note in enumerate(("skip-1", "skip-2", "kept"))]
    with Connection(procura_env["AMQP_URI"]) as conn:
        producer = conn.Producer(serializer="json")
        for event in events:
            producer.publish(event, exchange=exchange, routing_key="thing_happened",
                             declare=[exchange], user_id="guest")

    def seen():
        with ServiceRpcProxy("testchoosy", procura_env) as choosy:
            got = choosy.seen(CTX)
        return got if got["effects"] else None
    # "kept", published last, is handled after the two before it
    got = wait_for(seen, message="the event the handler wants")
    assert got == {"effects": ["kept"], "processed": [events[2]["event_id"]]}
