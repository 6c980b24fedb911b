"""Sent outbox rows, unroutable ones and idempotent handlers' processed-event rows are deleted
after their retention period, and nothing else is (on this run's database: SQLite or
PostgreSQL). Publishing itself, with the blanking of one-time tokens, is shown on the real
broker in tests/integration/test_bus_trust.py."""
from datetime import timedelta

from sqlalchemy import select

from services.common.clock import utcnow
from services.common.entrypoints import prune_processed_events
from services.common.outbox import emit, without_secrets
from services.common.relay import backlog, prune_outbox
from services.identity.models import Base


def test_sent_and_unroutable_rows_are_deleted_after_the_retention(session_factory, monkeypatch):
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", "7")
    session = session_factory("identity", Base)
    now = utcnow()
    rows = {name: emit(session, "identity", "user_created", {"n": name})
            for name in ("old_sent", "new_sent", "old_unroutable", "unsent")}
    rows["old_sent"].sent_at = now - timedelta(days=8)
    rows["new_sent"].sent_at = now - timedelta(days=6)
    rows["old_unroutable"].unroutable_at = now - timedelta(days=8)
    rows["unsent"].occurred_at = now - timedelta(days=30)  # never sent: kept, however old
    session.commit()
    assert prune_outbox(session, Base.OutboxEvent, now) == 2
    session.commit()
    left = {r.payload["n"] for r in session.scalars(select(Base.OutboxEvent))}
    assert left == {"new_sent", "unsent"}
    assert backlog(session, Base.OutboxEvent) == 1


def test_processed_events_are_deleted_after_their_retention(session_factory, monkeypatch):
    monkeypatch.setenv("PROCESSED_EVENTS_RETENTION_DAYS", "30")
    session = session_factory("identity", Base)
    now = utcnow()
    model = Base.ProcessedEvent
    session.add_all([model(event_id="e-old", handler="h", processed_at=now - timedelta(days=31)),
                     model(event_id="e-new", handler="h", processed_at=now - timedelta(days=29))])
    session.commit()
    assert prune_processed_events(session, model, now) == 1
    session.commit()
    assert [r.event_id for r in session.scalars(select(model))] == ["e-new"]


def test_one_time_tokens_are_the_payload_keys_blanked():
    payload = {"user_id": 4, "token": "raw", "set_password_token": "raw2",
               "expires_at": "2026-12-01T00:00:00Z", "tokens_left": 3}
    assert without_secrets(payload) == {"user_id": 4, "token": None, "set_password_token": None,
                                        "expires_at": "2026-12-01T00:00:00Z", "tokens_left": 3}
    assert without_secrets({"note": "x"}) == {"note": "x"}
