"""What every Procura service class starts from: metrics and a ping for readiness."""
from services.common.entrypoints import rpc
from services.common.metrics import Metrics


class ServiceBase:
    metrics = Metrics()

    @rpc
    def ping(self, ctx):
        return {"service": self.name, "ok": True}
