"""The HTTP gateway: authenticates, validates, authorises and calls the services.

Endpoints are grouped by the service they front, one mixin per module under routes/.
"""
from services.common.config import DATA_SERVICES
from services.common.rpc_client import RpcClient
from services.common.metrics import Metrics
from services.gateway.routes.approvals import ApprovalsRoutes
from services.gateway.routes.catalog import CatalogRoutes
from services.gateway.routes.identity import IdentityRoutes
from services.gateway.routes.notifications import NotificationsRoutes
from services.gateway.routes.ops import OpsRoutes
from services.gateway.routes.orders import OrdersRoutes
from services.gateway.routes.portal import PortalRoutes
from services.gateway.routes.punchout import PunchoutRoutes
from services.gateway.routes.reporting import ReportingRoutes


class GatewayService(OpsRoutes, IdentityRoutes, CatalogRoutes, OrdersRoutes, ApprovalsRoutes,
                     ReportingRoutes, NotificationsRoutes, PunchoutRoutes, PortalRoutes):
    name = "gateway"
    metrics = Metrics()

    identity_rpc = RpcClient("identity")
    catalog_rpc = RpcClient("catalog")
    orders_rpc = RpcClient("orders")
    approvals_rpc = RpcClient("approvals")
    reporting_rpc = RpcClient("reporting")
    notifications_rpc = RpcClient("notifications")
    punchout_rpc = RpcClient("punchout")


assert all(hasattr(GatewayService, f"{s}_rpc") for s in DATA_SERVICES)
