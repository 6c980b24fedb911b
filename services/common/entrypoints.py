"""Entrypoints that close nameko's gaps (see ARCHITECTURE.md, "nameko does not give these"),
and trust nothing on the bus for where it came from ("Security model").

- `rpc`: the caller is who the call's token says (services/common/caller_auth.py): a call
  without a valid token is refused (`Unauthorized`) before any worker starts, and the method
  gets the `CallerContext` built from the verified claims as its first argument;
  `@rpc(token_free=True)` only for identity's `public_keys` and `service_token`, which a
  caller needs before it has a token. Commits the worker's transaction *before* replying;
  domain errors are expected (not logged as crashes) and cross the wire as themselves.
- `event_handler`: refuses (dead-letters, with a log line) an event whose AMQP `user_id`,
  which RabbitMQ checks against the publishing connection's user, is not the RabbitMQ user
  of the event's source service (or this service's own, for its retries, or the broker
  administrator's, for replayed dead letters); commits before acking; records
  `(event_id, handler)` in the handler's own transaction and skips duplicates; a failure is
  retried through delay queues with back-off, then parked on the dead-letter queue (never
  acked-and-dropped, never hot-looped).

Both declare their queues with `QUEUE_TYPE`'s arguments and only check (never declare) the
exchanges they bind to, which a service's RabbitMQ user may not declare. RPC clients with
timeouts are in `rpc_client.py`; the queues these consumers read are declared ahead of time
by `broker.declare_topology`.
"""
import functools
import logging
from datetime import timedelta

import eventlet

from kombu import Queue
from nameko.amqp.publish import Publisher
from nameko.constants import PERSISTENT
from nameko.events import BROADCAST, SERVICE_POOL, EventHandler
from nameko.exceptions import ContainerBeingKilled, MalformedRequest
from nameko.extensions import SharedExtension
from nameko.rpc import RPC_QUEUE_TEMPLATE, Rpc, RpcConsumer
from sqlalchemy import delete

from services.common.broker import (ATTEMPTS_HEADER, DEAD_LETTER_EXCHANGE, delay_exchange_name,
                                    queue_arguments, retry_delays)
from services.common.caller_auth import (TOKEN_KEY, IncomingCall, authenticate,
                                         fetch_public_keys, public_keys, set_publisher)
from services.common.clock import utcnow
from services.common.config import amqp_user, broker_admin_user, env, uri_user
from services.common.context import CallerContext, set_request_id
from services.common.engines import dialect_insert
from services.common.errors import DomainError, Unauthorized
from services.common.metrics import BUS_REFUSED, EVENT_RETRIES, EVENTS_DEAD_LETTERED
from services.common.remote_errors import register_domain_errors
from services.common.standalone import rpc_exchange
from services.common.unit_of_work import Database, finish_unit_of_work, session_of

log = logging.getLogger(__name__)

# a domain error raised by a handler reaches the caller as itself
register_domain_errors()


class ProcuraRpcConsumer(RpcConsumer):
    """nameko's RPC consumer with the queue declared as QUEUE_TYPE says and the RPC exchange
    checked, not declared."""

    def setup(self):
        if self.queue is None:
            service_name = self.container.service_name
            self.queue = Queue(RPC_QUEUE_TEMPLATE.format(service_name),
                               exchange=rpc_exchange(self.container.config),
                               routing_key=f"{service_name}.*", durable=True,
                               queue_arguments=queue_arguments())
            self.queue_consumer.register_provider(self)
            self._registered = True


class _Verified:
    """What the entrypoint hands the worker in place of the wire's first argument."""

    def __init__(self, ctx: CallerContext, publisher):
        self.ctx, self.publisher = ctx, publisher


class ProcuraRpc(Rpc):
    rpc_consumer = ProcuraRpcConsumer()

    def __init__(self, expected_exceptions=DomainError, token_free=False, **kwargs):
        self.token_free = token_free
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def key_for(self, kid):
        """identity's public key `kid`: from a dependency that holds the keys (identity's
        own ring), else from identity (cached in this process)."""
        for provider in self.container.dependencies:
            lookup = getattr(provider, "token_public_key", None)
            if lookup is not None:
                return lookup(kid)
        return public_keys.get(kid, functools.partial(fetch_public_keys,
                                                      self.container.service_name))

    def handle_message(self, body, message):
        # runs in its own green thread (nameko's QueueConsumer spawns one per message), so
        # fetching identity's keys here holds up no other message
        try:
            args, kwargs = list(body["args"]), dict(body["kwargs"])
        except (KeyError, TypeError):
            raise MalformedRequest("Message missing `args` or `kwargs`")
        context_data = self.unpack_message_headers(message)
        # the token is this call's only: never passed on by nameko's own header propagation
        token = context_data.pop(TOKEN_KEY, None)
        publisher = message.properties.get("user_id")
        meta = args[0] if args else kwargs.pop("ctx", None)
        try:
            ctx = authenticate(IncomingCall(meta, token, publisher), self.key_for,
                               self.token_free)
        except Unauthorized as exc:
            BUS_REFUSED.labels(self.container.service_name, "rpc").inc()
            log.warning("refused %s.%s from RabbitMQ user %r: %s", self.container.service_name,
                        self.method_name, publisher, exc.detail)
            raise
        args = [_Verified(ctx, publisher)] + args[1:]
        self.check_signature(args, kwargs)
        try:
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=functools.partial(self.handle_result,
                                                                        message))
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)

    def handle_result(self, message, worker_ctx, result, exc_info):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        if exc_info is not None:
            result = None
        return super().handle_result(message, worker_ctx, result, exc_info)


def rpc(fn=None, *, token_free=False, **kwargs):
    """`@rpc` on `def method(self, ctx: CallerContext, ...)`: `ctx` is the verified caller."""
    if fn is None:
        return functools.partial(rpc, token_free=token_free, **kwargs)

    @functools.wraps(fn)
    def wrapper(self, verified=None, *args, **kw):
        if not isinstance(verified, _Verified):
            # only ProcuraRpc makes one, after checking the call's token
            raise Unauthorized("this method is reached through its RPC entrypoint only")
        set_publisher(verified.publisher)
        set_request_id(verified.ctx.request_id)
        return fn(self, verified.ctx, *args, **kw)

    return ProcuraRpc.decorator(token_free=token_free, **kwargs)(wrapper)


class ProcessedEventsPruner(SharedExtension):
    """Deletes the `(event_id, handler)` rows of idempotent handlers older than
    PROCESSED_EVENTS_RETENTION_DAYS (default 30), once an hour in every process that has
    event handlers: a duplicate arrives within minutes, not weeks."""

    def start(self):
        self.running = True
        self.gt = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self.running = False
        if getattr(self, "gt", None) is not None:
            self.gt.kill()

    kill = stop

    def _run(self):
        database = next((d for d in self.container.dependencies if isinstance(d, Database)),
                        None)
        while self.running and database is not None:
            eventlet.sleep(float(env("PROCESSED_EVENTS_PRUNE_INTERVAL", "3600")) if
                           getattr(self, "pruned", False) else 30)
            self.pruned = True
            try:
                with database.session_factory() as session:
                    pruned = prune_processed_events(session, database.base.ProcessedEvent)
                    session.commit()
                if pruned:
                    log.info("%s: %s old processed-event rows deleted",
                             self.container.service_name, pruned)
            except Exception as exc:
                log.warning("could not prune processed events: %s", exc)


def prune_processed_events(session, model, now=None) -> int:
    """Delete the processed-event rows older than PROCESSED_EVENTS_RETENTION_DAYS; returns
    how many. The caller commits."""
    cutoff = (now or utcnow()) - timedelta(days=float(env("PROCESSED_EVENTS_RETENTION_DAYS",
                                                          "30")))
    return session.execute(delete(model).where(model.processed_at < cutoff)).rowcount


class ProcuraEventHandler(EventHandler):
    pruner = ProcessedEventsPruner()

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        queue, exchange = self.queue, self.queue.exchange
        exchange.passive = True  # the source service's: checked, never declared here
        self.queue = Queue(queue.name, exchange=exchange, routing_key=queue.routing_key,
                           durable=True, queue_arguments=queue_arguments())
        uri = self.container.config["AMQP_URI"]
        self.publisher = Publisher(uri, use_confirms=True, user_id=uri_user(uri))
        self.delays = retry_delays()

    def trusted_publishers(self):
        # the source publishes the event; this service republishes its own retries; the
        # broker administrator replays dead letters
        return {amqp_user(self.source_service), uri_user(self.container.config["AMQP_URI"]),
                broker_admin_user()}

    def handle_message(self, body, message):
        publisher = message.properties.get("user_id")
        if publisher not in self.trusted_publishers():
            self.refuse(message, publisher)
            return
        super().handle_message(body, message)

    def refuse(self, message, publisher):
        service, method = self.container.service_name, self.method_name
        BUS_REFUSED.labels(service, "event").inc()
        log.error("refused a %s.%s event for %s.%s: published by RabbitMQ user %r, not by "
                  "%s's; dead-lettered", self.source_service, self.event_type, service, method,
                  publisher, self.source_service)
        headers = dict(message.headers or {})
        headers["x-procura-error"] = (f"refused: published by RabbitMQ user {publisher!r}, "
                                      f"not by {self.source_service}'s")
        # no x-procura-queue: `procura dead-letters replay` leaves it where it is
        headers["x-procura-refused-by"] = self.queue.name
        try:
            self._republish(message, headers, exchange=DEAD_LETTER_EXCHANGE,
                            routing_key=self.queue.name)
        except Exception:
            log.exception("could not dead-letter a refused event; dropped")
        self.queue_consumer.ack_message(message)

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
            self._republish(message, headers, exchange=DEAD_LETTER_EXCHANGE,
                            routing_key=self.queue.name)

    def _republish(self, message, headers, exchange, routing_key):
        self.publisher.publish(
            message.body, exchange=exchange, routing_key=routing_key, mandatory=True,
            delivery_mode=PERSISTENT, headers=headers, serializer=None,
            content_type=message.content_type, content_encoding=message.content_encoding)


class ProcuraBroadcastHandler(EventHandler):
    """Every process of the service gets every event, on a queue of its own that lives as
    long as the process (nothing is kept while it is down): for state each process holds in
    memory. Like `event_handler` it checks the exchange rather than declaring it and ignores
    (with a log line) an event its source's RabbitMQ user did not publish."""

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=BROADCAST,
                         reliable_delivery=False, **kwargs)

    def setup(self):
        super().setup()
        self.queue.exchange.passive = True

    def handle_message(self, body, message):
        publisher = message.properties.get("user_id")
        if publisher not in {amqp_user(self.source_service), broker_admin_user()}:
            BUS_REFUSED.labels(self.container.service_name, "event").inc()
            log.error("ignored a %s.%s event: published by RabbitMQ user %r, not by %s's",
                      self.source_service, self.event_type, publisher, self.source_service)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


def broadcast_handler(source_service, event_type, **kwargs):
    """`@broadcast_handler("identity", "access_revoked")` on `def method(self, event)`."""
    return ProcuraBroadcastHandler.decorator(source_service, event_type, **kwargs)


def event_handler(source_service, event_type, when=None, **kwargs):
    """`@event_handler("orders", "order_placed")` on `def method(self, event)`.

    `event` is the envelope `{event_id, type, source, occurred_at, request_id, payload}`.
    The handler runs at most once per event_id (recorded in the same transaction; the
    records are deleted after PROCESSED_EVENTS_RETENTION_DAYS). With `when(payload)`, an
    event it says no to is acknowledged untouched, with no transaction (the handler acts
    only on some events of its type, e.g. one status of order_status_changed).
    """
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(self, event):
            if when is not None and not when(event.get("payload") or {}):
                return None
            set_request_id(event.get("request_id"))
            session = session_of(self)
            handler = f"{type(self).name}.{fn.__name__}"
            if session is not None:
                # one statement: on PostgreSQL a concurrent delivery of the same event waits
                # here for the first one's transaction, and inserts nothing if it commits
                table = session.info["base"].ProcessedEvent.__table__
                recorded = session.execute(
                    dialect_insert(session)(table)
                    .values(event_id=event["event_id"], handler=handler)
                    .on_conflict_do_nothing()).rowcount
                if not recorded:
                    log.info("skipping duplicate event %s for %s", event["event_id"], handler)
                    return None
            return fn(self, event)

        return ProcuraEventHandler.decorator(source_service, event_type, **kwargs)(wrapper)
    return decorator


def handler_for(source_service, event_type, handle, **kwargs):
    """The `event_handler` named `on_<event_type>` that runs `handle(self, event)`, for a
    service that handles many events alike: `on_<event_type> = handler_for(...)`. The
    attribute and the function have that one name, which names the handler's queue and its
    processed-events records."""
    def on_event(self, event):
        return handle(self, event)
    on_event.__name__ = on_event.__qualname__ = f"on_{event_type}"
    return event_handler(source_service, event_type, **kwargs)(on_event)
