"""Entrypoints that close nameko's gaps (see ARCHITECTURE.md, "nameko does not give these").

- `rpc`: commits the worker's transaction *before* replying; domain errors are expected
  (not logged as crashes) and cross the wire as themselves; the first argument is the caller
  context.
- `event_handler`: commits before acking; records `(event_id, handler)` in the handler's own
  transaction and skips duplicates; a failure is retried through delay queues with back-off,
  then parked on the dead-letter queue (never acked-and-dropped, never hot-looped).

RPC clients with timeouts are in `rpc_client.py`; the queues these consumers read are
declared ahead of time by `broker.declare_topology`.
"""
import functools
import logging

from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from nameko.events import SERVICE_POOL, EventHandler
from nameko.rpc import Rpc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.broker import (ATTEMPTS_HEADER, DEAD_LETTER_QUEUE, delay_exchange_name,
                                    retry_delays)
from services.common.config import amqp_uri
from services.common.context import CallerContext, set_request_id
from services.common.errors import DomainError
from services.common.metrics import EVENT_RETRIES, EVENTS_DEAD_LETTERED
from services.common.remote_errors import register_domain_errors
from services.common.unit_of_work import finish_unit_of_work, session_of

log = logging.getLogger(__name__)

# a domain error raised by a handler reaches the caller as itself
register_domain_errors()


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
            session = session_of(self)
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
