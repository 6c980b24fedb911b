"""Who may call catalog's administrative rules; checked here as well as at the gateway, so
that no other caller can skip them."""
from services.common.errors import Forbidden


def require_staff(ctx):
    if not ctx.staff:
        raise Forbidden("this needs reseller staff")


def require_company(ctx):
    if ctx.company_id is None:
        raise Forbidden("this needs a user of a company")


def require_role(ctx, role):
    if ctx.company_id is None or role not in ctx.roles:
        raise Forbidden(f"this needs role {role}")
