"""RPC from one service to another inside a nameko worker: every call has a timeout and
shows a token (services/common/caller_auth.py): the token of the context passed as first
argument (the original caller's, passed on), or else the calling service's own."""
import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, ReplyListener, RpcProxy

from services.common.caller_auth import TOKEN_KEY, service_tokens
from services.common.config import uri_user
from services.common.context import CallerContext
from services.common.errors import Unavailable
from services.common.remote_errors import register_domain_errors
from services.common.standalone import ServiceReplyQueue

# a domain error raised by the called service is raised here as itself
register_domain_errors()


class ProcuraReplyListener(ServiceReplyQueue, ReplyListener):
    """nameko's reply listener, with the service's reply queue (the RPC exchange checked
    rather than declared: a service's RabbitMQ user may not declare it)."""


class RpcClient(RpcProxy):
    """`catalog = RpcClient("catalog")`; `self.catalog.quote(ctx, ...)` waits at most
    RPC_TIMEOUT seconds (or `rpc_timeout=`), then raises `Unavailable` (the gateway
    answers 503)."""

    rpc_reply_listener = ProcuraReplyListener()

    def get_dependency(self, worker_ctx):
        timeout = float(self.container.config.get("RPC_TIMEOUT", 10))
        return TimedServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                 timeout)


class _TokenMethodProxy(MethodProxy):
    token = None

    def get_message_headers(self, worker_ctx):
        headers = super().get_message_headers(worker_ctx)
        # this call's token, never one carried over from the message the worker handles
        headers.pop(self._get_header_name(TOKEN_KEY), None)
        if self.token:
            headers[self._get_header_name(TOKEN_KEY)] = self.token
        return headers


class TimedServiceProxy:
    def __init__(self, worker_ctx, service, reply_listener, timeout):
        self._worker_ctx = worker_ctx
        self._service = service
        self._reply_listener = reply_listener
        self._timeout = timeout

    def _token(self, args):
        ctx = args[0] if args and isinstance(args[0], CallerContext) else None
        if ctx is not None and ctx.token:
            return ctx.token
        container = self._worker_ctx.container
        return service_tokens.get(container.service_name, container.config["AMQP_URI"])

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args, rpc_timeout=None, **kwargs):
            timeout = rpc_timeout or self._timeout
            token = self._token(args)
            config = self._worker_ctx.container.config
            # every request says which RabbitMQ user sent it; the broker refuses a lie
            target = _TokenMethodProxy(self._worker_ctx, self._service, method,
                                       self._reply_listener, user_id=uri_user(config["AMQP_URI"]))
            target.token = token
            args = tuple(a.to_dict() if isinstance(a, CallerContext) else a for a in args)
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
