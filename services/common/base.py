"""What every Procura service class starts from: metrics and a ping for readiness, and the
dependencies a data service declares in its class statement:

    class OrdersService(ServiceBase, name="orders", models=Base, calls=("catalog", "identity")):

gives the class its `name`, `db` (a Database of `models`), `relay` (the outbox relay; a
service that emits no events says `relay=False`) and one RpcClient per service it `calls`,
named after that service (`self.catalog.quote(...)`)."""
from services.common.entrypoints import rpc
from services.common.metrics import Metrics
from services.common.relay import OutboxRelay
from services.common.rpc_client import RpcClient
from services.common.unit_of_work import Database


class ServiceBase:
    metrics = Metrics()

    def __init_subclass__(cls, name=None, models=None, calls=(), relay=True, **kwargs):
        super().__init_subclass__(**kwargs)
        if name is None:  # declares its dependencies itself (test services, subclasses)
            return
        cls.name = name
        cls.db = Database(name, models)
        if relay:
            cls.relay = OutboxRelay()
        for service in calls:
            setattr(cls, service, RpcClient(service))

    @rpc
    def ping(self, ctx):
        return {"service": self.name, "ok": True}
