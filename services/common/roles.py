"""The rights a company user can hold: roles (to administer a part of the company's account)
and feature rights (to use a part of the portal). Identity grants them through groups and
users, the access token carries them, the gateway and the services check them."""

ROLES = ("security_admin", "catalog_admin", "pas_admin", "slt_admin", "eprocurement_admin")
FEATURES = ("linked_accounts", "payment_reports", "recent_orders", "order_reports", "quotes",
            "slt_user")
