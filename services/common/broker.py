"""Broker administration: the event queues of every consumer declared ahead of time (an event
published before its consumer first started is kept), the retry delay queues, and the
dead-letter queue an operator lists and replays (`procura dead-letters`).

`QUEUE_TYPE=quorum` declares every durable queue as a quorum queue, replicated over the nodes
of a RabbitMQ cluster (docker-compose and Kubernetes); a queue keeps the type it was first
declared with, so switching an existing broker means deleting its queues first.

Each service's RabbitMQ user may declare only its own queues and its own event exchange
(services/common/broker_access.py); what it may not declare, `declare_topology` checks
exists, and the broker administrator (`procura declare-queues`, or the definitions file
docker-compose and Kubernetes load) declares it.
"""
import json
from dataclasses import dataclass, field

from amqp import Message
from amqp.exceptions import AccessRefused, NotFound
from kombu import Connection, Exchange, Queue
from nameko.events import SERVICE_POOL, EventHandler, get_event_exchange
from nameko.rpc import get_rpc_exchange

from services.common.config import amqp_uri, env, queue_type, uri_user


DEAD_LETTER_QUEUE = "procura.dead-letters"
# failed and refused events reach the dead-letter queue through this exchange, which every
# service may write to; only the broker administrator reads the queue
DEAD_LETTER_EXCHANGE = "procura.dead-letters"
ATTEMPTS_HEADER = "x-procura-attempts"


def retry_delays():
    """Seconds to wait before each retry; after the last one the event is dead-lettered."""
    return [float(x) for x in env("EVENT_RETRY_DELAYS", "1,5,30,120").split(",") if x.strip()]


def delay_exchange_name(seconds):
    return f"procura.retry.{int(seconds * 1000)}ms"


def queue_name(source, event_type, service, method):
    # nameko's own SERVICE_POOL naming, so our declarations and its consumers agree
    return f"evt-{source}-{event_type}--{service}.{method}"


def queue_arguments(extra=None, kind=None) -> dict:
    """The arguments of every durable queue we declare (nameko's consumers included), for
    queue type `kind` (default QUEUE_TYPE)."""
    arguments = dict(extra or {})
    if (kind or queue_type()) == "quorum":
        arguments["x-queue-type"] = "quorum"
    return arguments


def event_handlers(service_cls):
    """[(method name, EventHandler)] of a service class, mixins included."""
    found = {}
    for klass in reversed(service_cls.__mro__):
        for name, attr in vars(klass).items():
            for entrypoint in getattr(attr, "nameko_entrypoints", ()):
                if isinstance(entrypoint, EventHandler):
                    found[(name, entrypoint.source_service, entrypoint.event_type)] = entrypoint
    return [(name, entrypoint) for (name, _, _), entrypoint in found.items()]


def consumer_queues(service_cls):
    """The durable queues nameko will consume for this service's event handlers (a
    broadcast handler's queue is its process's own, made when it starts)."""
    return [(e.source_service, e.event_type,
             queue_name(e.source_service, e.event_type, service_cls.name, name))
            for name, e in event_handlers(service_cls) if e.handler_type == SERVICE_POOL]


@dataclass
class Topology:
    """Exchanges, and queues with the exchange and routing key each is bound to."""
    exchanges: list = field(default_factory=list)
    queues: list = field(default_factory=list)  # (Queue, is a consumer's)


def topology(service_classes, event_sources=(), kind=None) -> Topology:
    """What `service_classes` need on the broker: the RPC exchange, the retry delay queues,
    the dead-letter queue, each service's event exchange (declared whether or not anything
    listens, so its relay never publishes into nothing) and every exchange of
    `event_sources`, and each consumer's queue bound to its source."""
    plan = Topology()
    plan.exchanges.append(get_rpc_exchange({}))
    for seconds in retry_delays():
        name = delay_exchange_name(seconds)
        exchange = Exchange(name, type="fanout", durable=True)
        plan.exchanges.append(exchange)
        arguments = queue_arguments({"x-message-ttl": int(seconds * 1000),
                                     "x-dead-letter-exchange": ""}, kind)
        plan.queues.append((Queue(name, exchange=exchange, durable=True,
                                  queue_arguments=arguments), False))
    dead = Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True)
    plan.exchanges.append(dead)
    plan.queues.append((Queue(DEAD_LETTER_QUEUE, exchange=dead, durable=True,
                              queue_arguments=queue_arguments(kind=kind)), False))
    sources = list(event_sources) + [cls.name for cls in service_classes]
    for cls in service_classes:
        # broadcast handlers' sources too: their queues bind when their process starts
        sources += [entrypoint.source_service for _, entrypoint in event_handlers(cls)]
    for source in dict.fromkeys(sources):
        plan.exchanges.append(get_event_exchange(source, {}))
    for cls in service_classes:
        for source, event_type, name in consumer_queues(cls):
            plan.queues.append((Queue(name, exchange=get_event_exchange(source, {}),
                                      routing_key=event_type, durable=True,
                                      queue_arguments=queue_arguments(kind=kind)), True))
    return plan


class _Declarer:
    """Declares what the connection's user may, and checks that the rest exists."""

    def __init__(self, conn):
        self.conn = conn
        self.user = uri_user(conn.as_uri(include_password=False))
        self.channel = conn.channel()

    def _again(self):
        self.channel = self.conn.channel()

    def _missing(self, kind, name):
        return RuntimeError(
            f"the {kind} {name!r} does not exist and RabbitMQ user {self.user!r} may not "
            "declare it: run `procura declare-queues` as the broker administrator (or load "
            "the definitions of `procura broker-definitions`)")

    def _declared(self, kind, entity, declare):
        """`entity` bound to the channel and declared by its method `declare`; None when
        this user may not declare it but it exists (the administrator's)."""
        bound = entity(self.channel)
        try:
            getattr(bound, declare)()
            return bound
        except AccessRefused:
            self._again()
        try:
            getattr(entity(self.channel), declare)(passive=True)
        except NotFound:
            self._again()
            raise self._missing(kind, entity.name) from None
        return None

    def exchange(self, exchange):
        self._declared("exchange", exchange, "declare")

    def queue(self, queue):
        bound = self._declared("queue", queue, "queue_declare")
        if bound is None:
            return  # the administrator's, bound by the administrator
        try:
            bound.queue_bind()
        except AccessRefused:
            self._again()

    def close(self):
        self.channel.close()


def declare_topology(service_classes, uri=None, event_sources=()):
    """Declare (or, where the user may not, check) the topology of `service_classes`; returns
    the consumer queues. Idempotent; run by `procura migrate` and at every start."""
    plan = topology(service_classes, event_sources)
    with Connection(uri or amqp_uri()) as conn:
        declarer = _Declarer(conn)
        for exchange in plan.exchanges:
            declarer.exchange(exchange)
        for queue, _ in plan.queues:
            declarer.queue(queue)
        declarer.close()
    return [queue.name for queue, consumer in plan.queues if consumer]


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
    """Send dead letters back to their queues with a fresh retry budget, published as the
    broker administrator (`uri`'s user), whose events the handlers accept. An event refused
    for its publisher is replayed only when named by `event_id`."""
    replayed = 0
    uri = uri or amqp_uri()
    user = uri_user(uri)
    with Connection(uri) as conn:
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
            if target is None and event_id:
                # an event refused for its publisher goes back only when named: one a
                # misconfigured <SERVICE>_AMQP_USER refused, never a forged one in bulk
                target = headers.pop("x-procura-refused-by", None)
            headers.pop(ATTEMPTS_HEADER, None)
            if not target:
                keep.append(msg)
                continue
            # as the broker administrator, whose events the handlers accept
            channel.basic_publish(Message(msg.body, headers=headers, delivery_mode=2,
                                          content_type=msg.content_type,
                                          content_encoding=msg.content_encoding,
                                          user_id=user),
                                  exchange="", routing_key=target)
            channel.basic_ack(msg.delivery_tag)
            replayed += 1
        for msg in keep:
            channel.basic_reject(msg.delivery_tag, requeue=True)
        channel.close()
    return replayed


def dead_letter_count(uri=None):
    """How many dead letters wait (a passive declare, which any user may make)."""
    with Connection(uri or amqp_uri()) as conn:
        channel = conn.channel()
        _, count, _ = channel.queue_declare(DEAD_LETTER_QUEUE, passive=True)
        channel.close()
    return count

