"""The price a company pays, whose currency is fixed:
1. the lowest active contract price (today within the contract's starts_on..ends_on; several
   contracts may overlap; a contract_tier price applies from its tier's min_quantity),
   `price_source: contract`;
2. else, for a member of the company's employee purchase program, the product's EPP price,
   `price_source: epp`;
3. else the list price, `price_source: list`.
Only prices in the company's currency count: a product with none is `orderable: false`;
nothing is converted. Discontinued products are shown with their price but are not orderable.

A member of the EPP is a user of a company whose program is active today and either open to
all its users (`all_users`) or naming the user among its `user_ids` (a flag kept here, so
identity needs no EPP right).
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
from sqlalchemy import and_, case, func, select

from services.catalog import columns
from services.catalog.models import Contract, ContractPrice, Product
from services.common.money import Money



@dataclass(frozen=True)
class ContractOffer:
    """One contract price of a product for a company."""
    contract_id: int
    amount: Decimal
    currency: str
    starts_on: date
    ends_on: date
    min_quantity: int = 1
    tier: str | None = None


@dataclass(frozen=True)
class Quote:
    unit_price: Money | None
    price_source: str | None
    on_contract: bool
    orderable: bool
    contract_id: int | None = None


class ReadsThrough:
    """A domain result around one object, whose fields it reads through (`_through` names
    the field that holds it), for the output schemas."""
    _through = ""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(getattr(self, self._through), name)


@dataclass
class PricedProduct(ReadsThrough):
    """A product at one caller's price; reads through to the product's own fields."""
    product: Product
    quote: Quote
    tier_prices: list | None = None  # a product page's TierPrices
    _through = "product"

    @property
    def list_price(self) -> Money:
        return Money(self.product.list_price, self.product.currency)


@dataclass(frozen=True)
class TierPrice(ReadsThrough):
    """A contract price of a product that applies today, as a product page lists it."""
    offer: ContractOffer
    contract_name: str
    current: bool  # the caller's price for one unit comes from this one
    _through = "offer"

    @property
    def price(self) -> Money:
        return Money(self.offer.amount, self.offer.currency)


def contract_is_active(starts_on: date, ends_on: date, today: date) -> bool:
    return starts_on <= today <= ends_on


def contract_status(starts_on: date, ends_on: date, today: date) -> str:
    if today < starts_on:
        return "scheduled"
    return "active" if today <= ends_on else "expired"


def epp_member(program, user_id, today: date) -> bool:
    """Whether `user_id` buys at EPP prices under `program` (an EppProgram or None)."""
    if program is None or not program.active or user_id is None:
        return False
    if program.starts_on is not None and today < program.starts_on:
        return False
    if program.ends_on is not None and today > program.ends_on:
        return False
    return bool(program.all_users) or user_id in (program.user_ids or [])


def quote(list_price, list_currency, epp_price, availability, offers, currency: str,
          today: date, epp: bool = False, quantity: int = 1) -> Quote:
    """The price of one product for a company paying in `currency`."""
    best = None
    for offer in offers:
        if (offer.currency == currency and offer.min_quantity <= quantity
                and contract_is_active(offer.starts_on, offer.ends_on, today)
                and (best is None or offer.amount < best.amount)):
            best = offer
    if best is not None:
        price, source = Money(best.amount, currency), "contract"
    elif epp and epp_price is not None and list_currency == currency:
        price, source = Money(epp_price, currency), "epp"
    elif list_price is not None and list_currency == currency:
        price, source = Money(list_price, currency), "list"
    else:
        price, source = None, None
    return Quote(unit_price=price, price_source=source, on_contract=best is not None,
                 orderable=price is not None and availability != "discontinued",
                 contract_id=best.contract_id if best else None)


def offers_for(session, scope, part_numbers) -> dict:
    """Active contract prices of the caller's company, by part number."""
    offers = {}
    parts = sorted(set(part_numbers))
    if not scope.active_contracts or not parts:
        return offers
    for i in range(0, len(parts), 500):
        rows = session.execute(select(
            ContractPrice.contract_id, ContractPrice.part_number, ContractPrice.amount,
            ContractPrice.currency, ContractPrice.min_quantity, ContractPrice.tier).where(
            ContractPrice.company_id == scope.company_id,
            ContractPrice.contract_id.in_(list(scope.active_contracts)),
            ContractPrice.part_number.in_(parts[i:i + 500])))
        for r in rows:
            starts_on, ends_on = scope.active_contracts[r.contract_id]
            offers.setdefault(r.part_number, []).append(ContractOffer(
                r.contract_id, Decimal(r.amount), r.currency, starts_on, ends_on,
                r.min_quantity, r.tier))
    return offers


def quote_product(scope, product: Product, offers, quantity=1) -> Quote:
    return quote(product.list_price, product.currency, product.epp_price, product.availability,
                 offers.get(product.part_number, ()), scope.currency, scope.today, scope.epp,
                 quantity)


def priced(session, scope, products) -> list:
    """`products` at the caller's prices (`scope`: visibility.Scope), as PricedProducts."""
    offers = offers_for(session, scope, [p.part_number for p in products])
    return [PricedProduct(p, quote_product(scope, p, offers)) for p in products]


def tier_prices(session, offers, q: Quote, currency: str) -> list:
    """The contract prices of one product that apply to the caller's company today, tier by
    tier: `offers` are the product's ContractOffers (offers_for), `q` its Quote. Only
    prices in the company's currency count, as in `quote`; a higher quantity in a cart gets
    the lowest price whose quantity it reaches. Cheapest first within each quantity,
    smallest quantity first."""
    usable = sorted((o for o in offers if o.currency == currency),
                    key=lambda o: (o.min_quantity, o.amount, o.contract_id, o.tier or ""))
    if not usable:
        return []
    names = dict(session.execute(select(Contract.id, Contract.name).where(
        Contract.id.in_(sorted({o.contract_id for o in usable})))).all())
    chosen = None
    if q.price_source == "contract" and q.unit_price is not None:
        chosen = next((o for o in usable if o.contract_id == q.contract_id
                       and o.min_quantity <= 1 and o.amount == q.unit_price.amount), None)
    return [TierPrice(o, names.get(o.contract_id, ""), o is chosen) for o in usable]


def effective_price(scope):
    """The caller's unit price (quantity 1) as SQL, for sorting; NULL when not priced."""
    options = []
    if scope.active_contracts:
        options.append(select(func.min(ContractPrice.amount)).where(
            ContractPrice.company_id == scope.company_id,
            ContractPrice.part_number == Product.part_number,
            ContractPrice.contract_id.in_(list(scope.active_contracts)),
            ContractPrice.currency == scope.currency,
            ContractPrice.min_quantity <= 1).scalar_subquery())
    if scope.epp:
        options.append(case((and_(Product.currency == scope.currency,
                                  Product.epp_price.is_not(None)), Product.epp_price)))
    options.append(case((Product.currency == scope.currency, Product.list_price)))
    return func.coalesce(*options) if len(options) > 1 else options[0]


def order_by_price(table: columns.Prices, ids: np.ndarray, currency: str, epp: bool,
                   contract, descending: bool) -> np.ndarray:
    """`ids` (sorted) ordered by the caller's unit price (quantity 1): the contract price,
    else the EPP price for members, else the list price, in `currency`; unpriced products
    last, ties by id: what effective_price does in SQL, for the column snapshot."""
    cents, priced = columns.unit_cents(table, ids, currency, epp, contract)
    return ids[np.lexsort((ids, -cents if descending else cents, ~priced))]
