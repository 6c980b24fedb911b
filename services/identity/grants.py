"""The rights a company user can hold, and the standard groups every company has."""

ROLES = ("security_admin", "catalog_admin", "pas_admin", "slt_admin", "eprocurement_admin")
FEATURES = ("linked_accounts", "payment_reports", "recent_orders", "order_reports", "quotes",
            "slt_user")

# created with every company; they cannot be deleted
STANDARD_GROUPS = {
    "administrators": {"name": "Administrators", "roles": ROLES, "features": FEATURES},
    "power_users": {"name": "Power users", "roles": (),
                    "features": ("recent_orders", "order_reports", "quotes")},
    "users": {"name": "Users", "roles": (), "features": ()},
    "finance_users": {"name": "Finance users", "roles": (),
                      "features": ("linked_accounts", "payment_reports", "order_reports")},
}
