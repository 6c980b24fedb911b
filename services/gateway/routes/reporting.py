"""Gateway endpoints of the reporting service."""
from services.gateway.api import endpoint  # noqa: F401
from services.gateway.rights import AUTHENTICATED  # noqa: F401


class ReportingRoutes:
    pass
