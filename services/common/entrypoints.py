"""Entrypoints that close nameko's gaps (see ARCHITECTURE.md, "nameko does not give these").

- `rpc`: commits the worker's transaction *before* replying; domain errors are expected
  (not logged as crashes) and cross the wire as themselves; the first argument is the caller
  context.
- `event_handler`: commits before acking; records `(event_id, handler)` in the handler's own
  transaction and skips duplicates; a failure is retried through delay queues with back-off,
  then parked on the dead-letter queue (never acked-and-dropped, never hot-looped).
- `RpcClient`: an RPC proxy whose every call has a timeout and raises `Unavailable`.
- `declare_topology`: declares every consumer queue ahead of time, so an event published
  before its consumer first started is kept.
"""
import functools
import json
import logging

import eventlet
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from nameko.events import SERVICE_POOL, EventHandler, get_event_exchange
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcProxy
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.config import amqp_uri, env
from services.common.context import CallerContext, set_request_id
from services.common.db import Database
from services.common.errors import DomainError, Unavailable
from services.common.metrics import EVENT_RETRIES, EVENTS_DEAD_LETTERED

log = logging.getLogger(__name__)

DEAD_LETTER_QUEUE = "procura.dead-letters"
ATTEMPTS_HEADER = "x-procura-attempts"


def retry_delays():
    """Seconds to wait before each retry; after the last one the event is dead-lettered."""
    return [float(x) for x in env("EVENT_RETRY_DELAYS", "1,5,30,120").split(",") if x.strip()]


def delay_exchange_name(seconds):
    return f"procura.retry.{int(seconds * 1000)}ms"


def finish_unit_of_work(container, worker_ctx, exc_info):
    """Commit or roll back the worker's database sessions; returns the final exc_info."""
    for provider in container.dependencies:
        if isinstance(provider, Database):
            exc_info = provider.finish(worker_ctx, exc_info)
    return exc_info


class ProcuraRpc(Rpc):
    def __init__(self, expected_exceptions=DomainError, **kwargs):
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def handle_result(self, message, worker_ctx, result, exc_info):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        return super().handle_result(message, worker_ctx, result, exc_info)


def rpc(fn=None, **kwargs):
    """`@rpc` on `def method(self, ctx: CallerContext, ...)`."""
    if fn is None:
        return functools.partial(rpc, **kwargs)

    @functools.wraps(fn)
    def wrapper(self, ctx=None, *args, **kw):
        ctx = CallerContext.from_dict(ctx)
        set_request_id(ctx.request_id)
        return fn(self, ctx, *args, **kw)

    return ProcuraRpc.decorator(**kwargs)(wrapper)


def queue_name(source, event_type, service, method):
    # nameko's own SERVICE_POOL naming, so our declarations and its consumers agree
    return f"evt-{source}-{event_type}--{service}.{method}"


class ProcuraEventHandler(EventHandler):
    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        self.publisher = Publisher(amqp_uri(), use_confirms=True)
        self.delays = retry_delays()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        if exc_info is not None:
            try:
                self.retry_or_dead_letter(message, exc_info)
            except Exception:
                # could not park it: give it back to the broker rather than lose it
                log.exception("could not schedule a retry; requeueing")
                self.queue_consumer.requeue_message(message)
                return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def retry_or_dead_letter(self, message, exc_info):
        headers = dict(message.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        headers[ATTEMPTS_HEADER] = attempts
        headers["x-procura-error"] = f"{exc_info[0].__name__}: {exc_info[1]}"[:1000]
        headers["x-procura-queue"] = self.queue.name
        service, method = self.container.service_name, self.method_name
        if attempts <= len(self.delays):
            delay = self.delays[attempts - 1]
            log.warning("handler %s.%s failed (attempt %s), retrying in %ss: %s",
                        service, method, attempts, delay, headers["x-procura-error"])
            EVENT_RETRIES.labels(service, method).inc()
            # the delay exchange is a fanout into a queue with a fixed TTL that dead-letters
            # back through the default exchange, under this routing key: our own queue
            self._republish(message, headers, exchange=delay_exchange_name(delay),
                            routing_key=self.queue.name)
        else:
            log.error("handler %s.%s failed %s times; dead-lettered: %s", service, method,
                      attempts, headers["x-procura-error"])
            EVENTS_DEAD_LETTERED.labels(service, method).inc()
            self._republish(message, headers, exchange="", routing_key=DEAD_LETTER_QUEUE)

    def _republish(self, message, headers, exchange, routing_key):
        self.publisher.publish(
            message.body, exchange=exchange, routing_key=routing_key, mandatory=True,
            delivery_mode=PERSISTENT, headers=headers, serializer=None,
            content_type=message.content_type, content_encoding=message.content_encoding)


def event_handler(source_service, event_type, **kwargs):
    """`@event_handler("orders", "order_placed")` on `def method(self, event)`.

    `event` is the envelope `{event_id, type, source, occurred_at, request_id, payload}`.
    The handler runs at most once per event_id (recorded in the same transaction).
    """
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(self, event):
            set_request_id(event.get("request_id"))
            session = _session_of(self)
            handler = f"{type(self).name}.{fn.__name__}"
            if session is not None:
                model = session.info["base"].ProcessedEvent
                seen = session.scalar(select(model).where(model.event_id == event["event_id"],
                                                          model.handler == handler))
                if seen is not None:
                    log.info("skipping duplicate event %s for %s", event["event_id"], handler)
                    return None
                session.add(model(event_id=event["event_id"], handler=handler))
                try:
                    session.flush()
                except IntegrityError:
                    # a concurrent delivery of the same event got there first
                    session.rollback()
                    return None
            return fn(self, event)

        return ProcuraEventHandler.decorator(source_service, event_type, **kwargs)(wrapper)
    return decorator


def _session_of(service_instance):
    for name, attr in vars(type(service_instance)).items():
        if isinstance(attr, Database):
            return getattr(service_instance, name)
    return None


class RpcClient(RpcProxy):
    """`catalog = RpcClient("catalog")`; `self.catalog.quote(ctx, ...)` waits at most
    RPC_TIMEOUT seconds (or `rpc_timeout=`), then raises `Unavailable` (the gateway
    answers 503)."""

    def get_dependency(self, worker_ctx):
        proxy = super().get_dependency(worker_ctx)
        timeout = float(self.container.config.get("RPC_TIMEOUT", 10))
        return TimedServiceProxy(proxy, self.target_service, timeout)


class TimedServiceProxy:
    def __init__(self, proxy, service, timeout):
        self._proxy = proxy
        self._service = service
        self._timeout = timeout

    def __getattr__(self, method):
        target = getattr(self._proxy, method)

        def call(*args, rpc_timeout=None, **kwargs):
            args = tuple(a.to_dict() if isinstance(a, CallerContext) else a for a in args)
            timeout = rpc_timeout or self._timeout
            try:
                with eventlet.Timeout(timeout):
                    return target.call_async(*args, **kwargs).result()
            except eventlet.Timeout:
                raise Unavailable(f"{self._service} did not answer in {timeout:g}s",
                                  code="service_unavailable", extra={"retry_after": 5})
            except UnknownService:
                raise Unavailable(f"{self._service} is not running",
                                  code="service_unavailable", extra={"retry_after": 5})
        return call


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
            from amqp import Message
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

