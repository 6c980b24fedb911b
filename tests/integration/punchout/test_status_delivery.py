"""The punchout service in a nameko container on the real broker: an order event for an
order a procurement system sent becomes one StatusUpdateRequest, however often the event
comes; a buyer system that fails at first gets it later, with the same payloadID, and
nothing is lost or sent twice once it has answered."""
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import defusedxml.ElementTree as DET
import pytest
from cryptography.fernet import Fernet
from nameko.standalone.events import event_dispatcher
from sqlalchemy import select

from services.common.broker import declare_topology
from services.common.engines import open_session
from services.common.metrics import REQUESTS
from services.punchout import credentials, domain
from services.punchout.models import Base, StatusDelivery
from tests.support.databases import migrated_database
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class FlakyBuyer:
    """Answers 503 to the first `failures` posts, then a cXML 200."""

    def __init__(self, failures):
        self.posts, self.failures = [], failures
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.append(body)
                if len(outer.posts) <= outer.failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                reply = b'<cXML><Response><Status code="200" text="OK"/></Response></cXML>'
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cxml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def buyer():
    server = FlakyBuyer(failures=2)
    yield server
    server.server.shutdown()


def test_a_status_update_survives_a_failing_buyer_system_and_is_sent_once(
        start_service, procura_env, tmp_path, monkeypatch, buyer):
    monkeypatch.setenv("PUNCHOUT_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("PUNCHOUT_RETRY_SECONDS", "0.3")
    monkeypatch.setenv("PUNCHOUT_STATUS_INTERVAL", "0.2")
    credentials.reset()
    url, drop = migrated_database("punchout", tmp_path)
    monkeypatch.setenv("PUNCHOUT_DATABASE_URL", url)
    with open_session("punchout", Base, url) as session:
        cfg = domain.put_config(session, 1, {
            "from_credentials": [{"domain": "NetworkID", "identity": "AN01"}],
            "sender": {"domain": "NetworkID", "identity": "AN01"},
            "shared_secret": "integration-secret", "user_mapping": "fixed", "user_id": 7,
            "order_status_url": buyer.url})
        start = domain.begin_order(session, cfg, "PO-77", "h", payload_id="po-77@buyer",
                                   order_date="2026-11-30", buyer_credentials=[], lines=[])
        domain.order_placed(start.row, order_number="SO-0000077")
        session.commit()
    from services.punchout.service import PunchoutService
    event = {"event_id": str(uuid.uuid4()), "type": "order_status_changed", "source": "orders",
             "occurred_at": "2026-11-30T10:00:00Z", "request_id": "r1",
             "payload": {"order_number": "SO-0000077", "company_id": 1, "status": "approved",
                         "previous_status": "pending_approval"}}
    dispatch = event_dispatcher(procura_env, user_id="guest")
    # both copies wait in the queue before the service starts: the second is a redelivery
    declare_topology([PunchoutService])
    dispatch("orders", "order_status_changed", event)
    dispatch("orders", "order_status_changed", event)
    handled = REQUESTS.labels("punchout", "on_order_status_changed", "event", "ok")
    before = handled._value.get()
    start_service(PunchoutService)

    def delivered():
        with open_session("punchout", Base, url) as session:
            rows = session.scalars(select(StatusDelivery)).all()
            return rows if rows and all(r.delivered_at for r in rows) else None
    wait_for(delivered, timeout=20, message="the status update delivered")
    # both copies handled (the second skipped as already processed, with no error)
    wait_for(lambda: handled._value.get() - before == 2, message="both copies handled")
    (row,) = delivered()
    assert row.attempts == 3 and row.last_error is None
    assert len(buyer.posts) == 3   # two refused, one taken: the same document each time
    ids = {DET.fromstring(body).get("payloadID") for body in buyer.posts}
    assert ids == {row.payload_id}
    document = DET.fromstring(buyer.posts[-1])
    assert document.find("Request/StatusUpdateRequest/DocumentReference").get("payloadID") == "po-77@buyer"
    assert document.findtext("Header/Sender/Credential/SharedSecret") == "integration-secret"
    credentials.reset()
    drop()
