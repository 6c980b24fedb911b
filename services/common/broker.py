"""Broker administration: the event queues of every consumer declared ahead of time (an event
published before its consumer first started is kept), the retry delay queues, and the
dead-letter queue an operator lists and replays (`procura dead-letters`)."""
import json

from amqp import Message
from kombu import Connection, Exchange, Queue
from nameko.events import EventHandler, get_event_exchange

from services.common.config import amqp_uri, env

DEAD_LETTER_QUEUE = "procura.dead-letters"
ATTEMPTS_HEADER = "x-procura-attempts"


def retry_delays():
    """Seconds to wait before each retry; after the last one the event is dead-lettered."""
    return [float(x) for x in env("EVENT_RETRY_DELAYS", "1,5,30,120").split(",") if x.strip()]


def delay_exchange_name(seconds):
    return f"procura.retry.{int(seconds * 1000)}ms"


def queue_name(source, event_type, service, method):
    # nameko's own SERVICE_POOL naming, so our declarations and its consumers agree
    return f"evt-{source}-{event_type}--{service}.{method}"


def consumer_queues(service_cls):
    """The queues nameko will consume for this service's event handlers."""
    queues = []
    for attr in vars(service_cls).values():
        for entrypoint in getattr(attr, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventHandler):
                source, event_type = entrypoint.source_service, entrypoint.event_type
                queues.append((source, event_type, queue_name(source, event_type,
                                                              service_cls.name, attr.__name__)))
    return queues


def declare_topology(service_classes, uri=None):
    """Declare event exchanges, every consumer queue and its binding, the retry delay queues
    and the dead-letter queue. Idempotent; run by `procura migrate` and at every start."""
    with Connection(uri or amqp_uri()) as conn:
        channel = conn.channel()
        for seconds in retry_delays():
            name = delay_exchange_name(seconds)
            exchange = Exchange(name, type="fanout", durable=True)
            Queue(name, exchange=exchange, durable=True,
                  queue_arguments={"x-message-ttl": int(seconds * 1000),
                                   "x-dead-letter-exchange": ""})(channel).declare()
        Queue(DEAD_LETTER_QUEUE, durable=True)(channel).declare()
        declared = []
        for cls in service_classes:
            for source, event_type, name in consumer_queues(cls):
                Queue(name, exchange=get_event_exchange(source, {}), routing_key=event_type,
                      durable=True)(channel).declare()
                declared.append(name)
        channel.close()
    return declared


def dead_letters(uri=None, limit=1000):
    """Read the dead-letter queue without removing anything."""
    items = []
    with Connection(uri or amqp_uri()) as conn:
        channel = conn.channel()
        fetched = []
        for _ in range(limit):
            msg = channel.basic_get(DEAD_LETTER_QUEUE, no_ack=False)
            if msg is None:
                break
            fetched.append(msg)
            headers = msg.headers or {}
            try:
                body = json.loads(msg.body)
            except (ValueError, TypeError):
                body = msg.body
            items.append({"queue": headers.get("x-procura-queue"),
                          "attempts": headers.get(ATTEMPTS_HEADER),
                          "error": headers.get("x-procura-error"),
                          "event_id": body.get("event_id") if isinstance(body, dict) else None,
                          "type": body.get("type") if isinstance(body, dict) else None})
        for msg in fetched:
            channel.basic_reject(msg.delivery_tag, requeue=True)
        channel.close()
    return items


def replay_dead_letters(uri=None, event_id=None):
    """Send dead letters back to their queues with a fresh retry budget."""
    replayed = 0
    with Connection(uri or amqp_uri()) as conn:
        channel = conn.channel()
        channel.confirm_select()
        keep = []
        while True:
            msg = channel.basic_get(DEAD_LETTER_QUEUE, no_ack=False)
            if msg is None:
                break
            headers = dict(msg.headers or {})
            try:
                body_id = json.loads(msg.body).get("event_id")
            except (ValueError, TypeError, AttributeError):
                body_id = None
            if event_id and body_id != event_id:
                keep.append(msg)
                continue
            target = headers.pop("x-procura-queue", None)
            headers.pop(ATTEMPTS_HEADER, None)
            if not target:
                keep.append(msg)
                continue
            channel.basic_publish(Message(msg.body, headers=headers, delivery_mode=2,
                                          content_type=msg.content_type,
                                          content_encoding=msg.content_encoding),
                                  exchange="", routing_key=target)
            channel.basic_ack(msg.delivery_tag)
            replayed += 1
        for msg in keep:
            channel.basic_reject(msg.delivery_tag, requeue=True)
        channel.close()
    return replayed


def dead_letter_count(uri=None):
    with Connection(uri or amqp_uri()) as conn:
        channel = conn.channel()
        _, count, _ = channel.queue_declare(DEAD_LETTER_QUEUE, durable=True, passive=False)
        channel.close()
    return count

