"""RPC to other services from work a service does by itself (timers, command-line tools),
outside any nameko worker: a cluster proxy opened only when first used, closed by `close()`.

It logs in as the service it works for (`<SERVICE>_AMQP_URI`), names its reply queue after
it, stamps each request with its RabbitMQ user (the AMQP `user_id`, which the broker checks)
and shows a token with every call: the token of the context passed as first argument, or
else the service's own short-lived token (services/common/caller_auth.py).
"""
import uuid

from kombu import Queue
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL
from nameko.rpc import ServiceProxy
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy, SingleThreadedReplyListener

from services.common.config import amqp_uri, env, uri_user
from services.common.context import CallerContext
from services.common.remote_errors import register_domain_errors

register_domain_errors()


def rpc_exchange(config):
    """nameko's RPC exchange, checked (passive), never declared: the broker administrator
    declares it, and a service's user may not (services/common/broker.py)."""
    from nameko.rpc import get_rpc_exchange
    exchange = get_rpc_exchange(config)
    exchange.passive = True
    return exchange


class ServiceReplyQueue:
    """Setup for a nameko reply listener: the reply queue named after the service it works
    for (its RabbitMQ user may use queues of that name only), the exchange not declared."""

    def setup(self):
        reply_queue_uuid = uuid.uuid4()
        self.routing_key = str(reply_queue_uuid)
        self.queue = Queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name,
                                                           reply_queue_uuid),
                           exchange=rpc_exchange(self.container.config),
                           routing_key=self.routing_key,
                           queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL})
        self.queue_consumer.register_provider(self)


class _ReplyListener(ServiceReplyQueue, SingleThreadedReplyListener):
    """nameko's standalone reply listener, with the service's reply queue."""


class _ClusterProxy(ClusterProxy):
    def __init__(self, worker_ctx, reply_listener, **options):
        super().__init__(worker_ctx, reply_listener)
        self._options = options

    def __getattr__(self, name):
        if name not in self._proxies:
            self._proxies[name] = ServiceProxy(self._worker_ctx, name, self._reply_listener,
                                               **self._options)
        return self._proxies[name]


class _Cluster(ClusterRpcProxy):
    def __init__(self, service, config, timeout, user):
        super().__init__(config, timeout=timeout, reply_listener_cls=_ReplyListener)
        self._reply_listener.container.service_name = service or "standalone"
        # every request says which RabbitMQ user sent it; the broker refuses a lie
        self._proxy = _ClusterProxy(self._worker_ctx, self._reply_listener, user_id=user)


class StandaloneRpc:
    """`rpc.identity.get_people(ctx, ...)`; contexts cross as dicts with their token as a
    header; calls time out after RPC_TIMEOUT seconds. `service` is the service this work is
    done for (None: the operator's own `AMQP_URI`, with no service token); `tokens=False`
    sends no token (identity's `public_keys` and `service_token` need none)."""

    def __init__(self, service=None, uri=None, tokens=True):
        self.service = service
        self.uri = uri or amqp_uri(service)
        self.tokens = tokens
        self.cluster = None
        self.proxy = None

    @classmethod
    def for_container(cls, container):
        """For a service's background work: as that service, on its connection's URI."""
        return cls(container.service_name, uri=container.config["AMQP_URI"])

    def __getattr__(self, service):
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self, service)

    def _target(self, service, method):
        if self.proxy is None:
            self.cluster = _Cluster(self.service, {"AMQP_URI": self.uri},
                                    float(env("RPC_TIMEOUT", "10")), uri_user(self.uri))
            self.proxy = self.cluster.start()
        return getattr(getattr(self.proxy, service), method)

    def _token(self, args):
        if not self.tokens:
            return None
        ctx = args[0] if args and isinstance(args[0], CallerContext) else None
        if ctx is not None and ctx.token:
            return ctx.token
        if self.service is None:
            return None
        from services.common.caller_auth import service_tokens
        return service_tokens.get(self.service, self.uri)

    def close(self):
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = self.proxy = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Service:
    def __init__(self, rpc, name):
        self._rpc, self._name = rpc, name

    def __getattr__(self, method):
        target = self._rpc._target(self._name, method)

        def call(*args, **kwargs):
            from services.common.caller_auth import TOKEN_KEY
            token = self._rpc._token(args)
            args = [a.to_dict() if isinstance(a, CallerContext) else a for a in args]
            # one proxy serves one call at a time: the header is this call's
            data = self._rpc.cluster._worker_ctx.data
            data.pop(TOKEN_KEY, None)
            if token:
                data[TOKEN_KEY] = token
            return target(*args, **kwargs)
        return call
