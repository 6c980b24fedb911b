"""The outbox relay's rounds (OutboxRelay.cycle), on this run's database: a round that
published less than a full batch does not go round again at once (a commit of this process
wakes it; others' rows are polled), a full batch does; the backlog gauge is counted every
few seconds, not on every round."""
import types

import pytest

from services.common import relay
from services.common.engines import session_factory as sessions_of
from services.common.outbox import emit
from services.identity.models import Base


class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, body, **options):
        self.sent.append(body["type"])


@pytest.fixture
def outbox(session_factory):
    session = session_factory("identity", Base)
    loop = relay.OutboxRelay.__new__(relay.OutboxRelay)
    loop.container = types.SimpleNamespace(service_name="identity")
    loop.database = types.SimpleNamespace(base=Base,
                                          session_factory=sessions_of(session.get_bind(), Base))
    loop.publisher = Publisher()
    loop.counted_at = loop.pruned_at = float("inf")  # no dead-letter count, no pruning here
    loop.backlog_at = 0.0
    return session, loop


def write(session, n):
    for i in range(n):
        emit(session, "identity", "user_created", {"n": i})
    session.commit()


def test_a_round_short_of_a_full_batch_does_not_go_round_again(outbox):
    session, loop = outbox
    write(session, 3)
    assert loop.cycle() is False
    assert loop.publisher.sent == ["user_created"] * 3


def test_a_full_batch_goes_round_again(outbox, monkeypatch):
    session, loop = outbox
    monkeypatch.setattr(relay, "BATCH", 2)
    write(session, 3)
    assert loop.cycle() is True
    assert loop.cycle() is False
    assert len(loop.publisher.sent) == 3


def test_the_backlog_is_counted_every_few_seconds_not_every_round(outbox, monkeypatch):
    session, loop = outbox
    counts = []
    monkeypatch.setattr(relay, "backlog", lambda s, m: counts.append(1) or 0)
    for _ in range(3):
        write(session, 1)
        loop.cycle()
    assert len(loop.publisher.sent) == 3 and len(counts) == 1
