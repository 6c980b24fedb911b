"""The standard groups every company has, and the rights (services/common/roles.py) each
grants."""
from services.common.roles import FEATURES, ROLES

# created with every company; they cannot be deleted
STANDARD_GROUPS = {
    "administrators": {"name": "Administrators", "roles": ROLES, "features": FEATURES},
    "power_users": {"name": "Power users", "roles": (),
                    "features": ("recent_orders", "order_reports", "quotes")},
    "users": {"name": "Users", "roles": (), "features": ()},
    "finance_users": {"name": "Finance users", "roles": (),
                      "features": ("linked_accounts", "payment_reports", "order_reports")},
}
