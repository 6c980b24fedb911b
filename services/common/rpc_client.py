"""RPC from one service to another inside a nameko worker: every call has a timeout."""
import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from services.common.context import CallerContext
from services.common.errors import Unavailable
from services.common.remote_errors import register_domain_errors

# a domain error raised by the called service is raised here as itself
register_domain_errors()


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
