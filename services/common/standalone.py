"""RPC to other services from work a service does by itself (timers, command-line tools),
outside any nameko worker: a cluster proxy opened only when first used, closed by `close()`."""
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.config import amqp_uri, env
from services.common.context import CallerContext
from services.common.remote_errors import register_domain_errors

register_domain_errors()


class StandaloneRpc:
    """`rpc.identity.get_people(ctx, ...)`; contexts cross as dicts; calls time out after
    RPC_TIMEOUT seconds."""

    def __init__(self, uri=None):
        self.uri = uri
        self.cluster = None
        self.proxy = None

    def __getattr__(self, service):
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self, service)

    def _target(self, service, method):
        if self.proxy is None:
            self.cluster = ClusterRpcProxy({"AMQP_URI": self.uri or amqp_uri()},
                                           timeout=float(env("RPC_TIMEOUT", "10")))
            self.proxy = self.cluster.start()
        return getattr(getattr(self.proxy, service), method)

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
            args = [a.to_dict() if isinstance(a, CallerContext) else a for a in args]
            return target(*args, **kwargs)
        return call
