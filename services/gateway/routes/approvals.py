"""Gateway endpoints of the approvals service."""
from services.gateway.api import endpoint  # noqa: F401
from services.gateway.rights import AUTHENTICATED  # noqa: F401


class ApprovalsRoutes:
    pass
