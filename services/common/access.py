"""Who may call a service's rules: each service checks again what the gateway checked, so
that no other caller can skip it."""
from services.common.errors import Forbidden


def require_staff(ctx):
    if not ctx.staff:
        raise Forbidden("this needs reseller staff")


def require_user(ctx):
    if ctx.user_id is None:
        raise Forbidden("this needs a signed-in user")


def require_company(ctx):
    if ctx.company_id is None:
        raise Forbidden("this needs a user of a company")


def require_company_user(ctx):
    """A signed-in user of a company (not a service or staff acting for the company)."""
    if ctx.company_id is None or ctx.user_id is None:
        raise Forbidden("this needs a user of a company")


def require_role(ctx, role):
    if ctx.company_id is None or role not in ctx.roles:
        raise Forbidden(f"this needs role {role}")
