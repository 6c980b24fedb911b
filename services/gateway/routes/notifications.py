"""Gateway endpoints of the notifications service."""
from services.gateway.api import endpoint  # noqa: F401
from services.gateway.rights import PUBLIC  # noqa: F401


class NotificationsRoutes:
    pass
