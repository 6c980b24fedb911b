"""The contract prices of one product that apply to the caller's company today, tier by
tier, for its product page: each with its contract, tier (none: the contract's base price),
the quantity it applies from, its price, and whether it is the one the caller's price (one
unit) comes from. Only active contracts and prices in the company's currency count, as in
domain.quote; a higher quantity in a cart gets the lowest price whose quantity it reaches."""
from sqlalchemy import select

from services.catalog.models import Contract
from services.common.money import Money


def tier_prices(session, scope, offers, q) -> list:
    """`offers`: the product's ContractOffers (domain.offers_for); `q`: its Quote. Cheapest
    first within each quantity, smallest quantity first."""
    usable = sorted((o for o in offers if o.currency == scope.currency),
                    key=lambda o: (o.min_quantity, o.amount, o.contract_id, o.tier or ""))
    if not usable:
        return []
    names = dict(session.execute(select(Contract.id, Contract.name).where(
        Contract.id.in_(sorted({o.contract_id for o in usable})))).all())
    chosen = None
    if q.price_source == "contract" and q.unit_price is not None:
        chosen = next((o for o in usable if o.contract_id == q.contract_id
                       and o.min_quantity <= 1 and o.amount == q.unit_price.amount), None)
    return [{"contract_id": o.contract_id, "contract_name": names.get(o.contract_id, ""),
             "tier": o.tier, "min_quantity": o.min_quantity,
             "price": Money(o.amount, scope.currency).to_dict(), "ends_on": o.ends_on.isoformat(),
             "current": o is chosen} for o in usable]
