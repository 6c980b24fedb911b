"""The nameko gaps of ARCHITECTURE.md, each closed in services/common and shown on the real
broker: outbox publishing, queues declared before consumers start, retry then dead-letter
and replay, RPC timeouts, and idempotent handling of redelivered events."""
import eventlet
import pytest
from kombu import Connection
from nameko.events import get_event_exchange

from services.common.broker import dead_letters, declare_topology, replay_dead_letters
from services.common.context import CallerContext
from services.common.errors import NotFound, Unavailable
from services.common.metrics import REQUESTS
from tests.integration.messaging_services import Publisher, Subscriber
from tests.support.broker import ready_messages
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
CTX = CallerContext(user_id=1, company_id=1).to_dict()
QUEUE = "evt-testpub-thing_happened--testsub.on_thing"


def effects(config):
    with ServiceRpcProxy("testsub", config) as sub:
        return sub.effects(CTX)


def test_event_published_before_consumer_first_started_is_delivered(messaging_dbs, start_service, procura_env):
    # The consumer's queue is declared at deploy time; the consumer itself is not running.
    declare_topology([Subscriber])
    start_service(Publisher)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        pub.publish(CTX, "early")
    wait_for(lambda: ready_messages(procura_env["AMQP_URI"], QUEUE) == 1,
             message="the relay to publish into the declared queue")
    start_service(Subscriber)
    got = wait_for(lambda: effects(procura_env), message="the early event")
    assert [note for _, note in got] == ["early"]


def test_event_not_emitted_when_transaction_rolls_back(messaging_dbs, start_service, procura_env):
    start_service(Publisher)
    # one worker handles events in the order they were published, so once the later
    # "real" has had its effect, a "ghost" published before it would have had its own
    start_service(Subscriber, max_workers=1)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        with pytest.raises(NotFound):
            pub.fail_after_emit(CTX, "ghost")
        pub.publish(CTX, "real")
    got = wait_for(lambda: effects(procura_env), message="the real event")
    assert [note for _, note in got] == ["real"]


def test_failing_handler_is_retried_then_dead_lettered_then_replayed(messaging_dbs, start_service, procura_env):
    start_service(Publisher)
    start_service(Subscriber)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        pub.publish(CTX, "poison-1")
    uri = procura_env["AMQP_URI"]
    # retried twice (0.2 s, 0.4 s), then parked
    items = wait_for(lambda: dead_letters(uri), timeout=15, message="a dead letter")
    assert len(items) == 1 and items[0]["attempts"] == 3
    assert "cannot handle poison-1" in items[0]["error"]
    assert items[0]["queue"] == QUEUE
    assert effects(procura_env) == []  # every failed attempt rolled back
    # listing does not consume
    assert len(dead_letters(uri)) == 1
    assert replay_dead_letters(uri) == 1
    assert wait_for(lambda: dead_letters(uri), timeout=15, message="parked again")[0]["attempts"] == 3


def test_rpc_to_a_stopped_service_times_out(messaging_dbs, start_service, procura_env, monkeypatch):
    # testsub's queue exists (declared) but nothing consumes it: nameko alone would wait forever
    container = start_service(Subscriber)
    container.stop()
    start_service(Publisher, RPC_TIMEOUT=1)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        with eventlet.Timeout(10):
            with pytest.raises(Unavailable):
                pub.call_sub(CTX)


def test_redelivered_event_has_its_effect_once(messaging_dbs, start_service, procura_env):
    # one worker: events are handled in the order they were published
    start_service(Subscriber, max_workers=1)

    def envelope(event_id, note):
        return {"event_id": event_id, "type": "thing_happened", "source": "testpub",
                "occurred_at": "2026-11-22T10:00:00Z", "request_id": "r1",
                "payload": {"note": note}}
    twice = envelope("0b7c3f0e-1111-4a8c-9a9e-000000000001", "twice")
    marker = envelope("0b7c3f0e-1111-4a8c-9a9e-000000000002", "marker")
    exchange = get_event_exchange("testpub", {})
    with Connection(procura_env["AMQP_URI"]) as conn:
        producer = conn.Producer(serializer="json")
        for event in (twice, twice, twice, marker):
            # as testpub's RabbitMQ user (all the test's services share guest)
            producer.publish(event, exchange=exchange, routing_key="thing_happened",
                             declare=[exchange], user_id="guest")
    # the marker, published after the copies, is handled after them
    got = wait_for(lambda: any(note == "marker" for _, note in effects(procura_env)) and
                   effects(procura_env), message="the marker")
    assert got == [[twice["event_id"], "twice"], [marker["event_id"], "marker"]]


def test_concurrent_deliveries_of_one_event_have_its_effect_once(messaging_dbs, start_service,
                                                                procura_env):
    # two workers: the first copy's handler keeps its transaction, which recorded the
    # event, open until the second copy is being handled (tests/integration/
    # messaging_services.py: Subscriber.on_thing, "together")
    start_service(Subscriber, max_workers=2)
    handled = REQUESTS.labels("testsub", "on_thing", "event", "ok")
    before = handled._value.get()
    event = {"event_id": "0b7c3f0e-1111-4a8c-9a9e-000000000003", "type": "thing_happened",
             "source": "testpub", "occurred_at": "2026-11-22T10:00:00Z", "request_id": "r2",
             "payload": {"note": "together"}}
    exchange = get_event_exchange("testpub", {})
    with Connection(procura_env["AMQP_URI"]) as conn:
        producer = conn.Producer(serializer="json")
        for _ in range(2):
            producer.publish(event, exchange=exchange, routing_key="thing_happened",
                             declare=[exchange], user_id="guest")
    # both copies were handled (the second skipped, with no error) ...
    wait_for(lambda: handled._value.get() - before == 2, message="both copies handled")
    # ... at the same time, and the effect happened once
    assert effects(procura_env) == [[event["event_id"], "together"]]


def test_entrypoint_metrics_count_outcomes_and_dead_letters(messaging_dbs, start_service, procura_env):
    from prometheus_client import REGISTRY

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok = dict(service="testpub", entrypoint="publish", kind="rpc", outcome="ok")
    rejected = dict(service="testpub", entrypoint="fail_after_emit", kind="rpc", outcome="rejected")
    parked = dict(service="testsub", entrypoint="on_thing")
    failed = dict(service="testsub", entrypoint="on_thing", kind="event", exception="RuntimeError")
    # every count is taken before anything is published: the poison event's retries take
    # well under a second
    before = sample("procura_entrypoint_requests_total", **ok), \
        sample("procura_entrypoint_requests_total", **rejected), \
        sample("procura_events_dead_lettered_total", **parked), \
        sample("procura_entrypoint_errors_total", **failed)
    start_service(Publisher)
    start_service(Subscriber)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        pub.publish(CTX, "counted")
        with pytest.raises(NotFound):
            pub.fail_after_emit(CTX, "x")
        pub.publish(CTX, "poison-metrics")
    # nameko records a worker's result just after the reply is sent: wait for it
    wait_for(lambda: sample("procura_entrypoint_requests_total", **ok) == before[0] + 2,
             message="two ok calls counted")
    wait_for(lambda: sample("procura_entrypoint_requests_total", **rejected) == before[1] + 1,
             message="one rejected call counted")
    assert sample("procura_entrypoint_latency_seconds_count", service="testpub",
                  entrypoint="publish", kind="rpc") >= 2
    wait_for(lambda: sample("procura_events_dead_lettered_total", **parked) == before[2] + 1,
             timeout=15, message="the dead-letter counter")
    # the first try and each retry failed; the last failure is counted as its worker ends,
    # after the event was parked
    wait_for(lambda: sample("procura_entrypoint_errors_total", **failed) == before[3] + 3,
             message="three failures of the poison event counted")
