"""The rights an endpoint can require. Each is a small object that says whether a caller
context may call it; the authorisation matrix test is generated from them."""
from dataclasses import dataclass


class Right:
    needs_token = True
    description = ""

    def allows(self, ctx) -> bool:
        raise TypeError("a Right must say whom it allows")


class _Public(Right):
    needs_token = False
    description = "public"

    def allows(self, ctx):
        return True


class _Authenticated(Right):
    description = "any user of a company"

    def allows(self, ctx):
        return ctx.company_id is not None


class _Staff(Right):
    description = "reseller staff"

    def allows(self, ctx):
        return bool(ctx.staff)


@dataclass(frozen=True)
class Role(Right):
    role: str

    @property
    def description(self):
        return f"role {self.role}"

    def allows(self, ctx):
        return ctx.company_id is not None and self.role in ctx.roles


@dataclass(frozen=True)
class Feature(Right):
    feature: str

    @property
    def description(self):
        return f"feature {self.feature}"

    def allows(self, ctx):
        return ctx.company_id is not None and self.feature in ctx.features


@dataclass(frozen=True)
class AnyOf(Right):
    rights: tuple

    @property
    def description(self):
        return " or ".join(r.description for r in self.rights)

    def allows(self, ctx):
        return any(r.allows(ctx) for r in self.rights)


PUBLIC = _Public()
AUTHENTICATED = _Authenticated()
STAFF = _Staff()
ROLES = ("security_admin", "catalog_admin", "pas_admin", "slt_admin", "eprocurement_admin")
FEATURES = ("linked_accounts", "payment_reports", "recent_orders", "order_reports", "quotes",
            "slt_user")


def role(name):
    assert name in ROLES, name
    return Role(name)


def feature(name):
    assert name in FEATURES, name
    return Feature(name)


def any_of(*rights):
    return AnyOf(tuple(rights))
