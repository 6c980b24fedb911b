"""Each company's currency, for the few callers whose access token predates the currency
claim: asked of identity and kept for a minute (a company's currency never changes).

The `CompanyCurrencies` dependency keeps one `Currencies` per service container."""
import time

from nameko.extensions import DependencyProvider

KEEP_SECONDS = 60.0


class Currencies:
    def __init__(self):
        self.known = {}  # company id -> (currency, when fetched)

    def of(self, ctx, identity_rpc) -> str:
        """The caller's company's currency: from the token, else from identity."""
        if ctx.currency:
            return ctx.currency
        cached = self.known.get(ctx.company_id)
        now = time.monotonic()
        if cached is not None and now - cached[1] < KEEP_SECONDS:
            return cached[0]
        currency = identity_rpc.get_company(ctx)["currency"]
        self.known[ctx.company_id] = (currency, now)
        return currency


class CompanyCurrencies(DependencyProvider):
    """`currencies = CompanyCurrencies()`: the container's Currencies."""

    def setup(self):
        self.state = Currencies()

    def get_dependency(self, worker_ctx):
        return self.state
