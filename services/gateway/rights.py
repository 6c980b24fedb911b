"""The rights an endpoint can require. Each is a small object that says whether a caller
context may call it; the authorisation matrix test is generated from them."""
from dataclasses import dataclass

from services.common.roles import FEATURES, ROLES


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
class Granted(Right):
    """A role or a feature right of the caller, in their company."""
    kind: str  # "role" or "feature"
    name: str

    @property
    def description(self):
        return f"{self.kind} {self.name}"

    def allows(self, ctx):
        held = ctx.roles if self.kind == "role" else ctx.features
        return ctx.company_id is not None and self.name in held


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


def role(name):
    assert name in ROLES, name
    return Granted("role", name)


def feature(name):
    assert name in FEATURES, name
    return Granted("feature", name)


def any_of(*rights):
    return AnyOf(tuple(rights))
