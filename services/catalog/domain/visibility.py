"""What a caller may see. A user with catalog grants (ctx.catalog_ids) sees the union of those
custom catalogs of their company, everywhere (search, product page, lookup, price_lines); a
user without grants sees the whole catalog. A grant to a catalog that no longer exists shows
nothing.

A custom catalog is its rules combined with AND (no rules: every product), narrowed by
`include` (a product must match every criterion given) and by `exclude` (a product matching
any criterion given is removed). Criteria: manufacturers, categories, languages, and
`off_contract: true` (not on an active contract of the company).
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, false, not_, or_, select, true

from services.catalog import facet_counts
from services.catalog.domain.pricing import epp_member
from services.catalog.fulltext import FullText, terms
from services.catalog.models import (Contract, ContractPrice, CustomCatalog, EppProgram,
                                     Favorite, Product, PurchaseHistory, SavedSearch)
from services.common.clock import utc_today
from services.common.context import CallerContext
from services.common.errors import Invalid
from services.common.tenancy import company_row


@dataclass
class Scope:
    """Everything pricing and visibility need about one caller, loaded once per request."""
    company_id: int | None
    user_id: int | None
    currency: str
    today: date
    active_contracts: dict      # contract id -> (starts_on, ends_on)
    epp: bool
    allowed: object = None      # SQL condition on products; None: the whole catalog
    catalogs: list | None = None  # the granted catalogs that exist; None: no grants


def normalise_currency(currency) -> str:
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise Invalid("a currency code is needed to price products", code="currency_required",
                      errors={"currency": ["Three letters, like CAD."]})
    return currency.strip().upper()


def scope_for(session, ctx: CallerContext, currency, today=None, grants=True) -> Scope:
    """The caller's prices and allowed products. `grants=False` ignores catalog grants (a
    catalog admin previewing a catalog)."""
    today = today or utc_today()
    currency = normalise_currency(currency)
    company_id = ctx.company_id
    active, epp = {}, False
    if company_id is not None:
        for c in session.execute(select(Contract.id, Contract.starts_on, Contract.ends_on).where(
                Contract.company_id == company_id, Contract.starts_on <= today,
                Contract.ends_on >= today)):
            active[c.id] = (c.starts_on, c.ends_on)
        program = session.scalar(select(EppProgram).where(EppProgram.company_id == company_id))
        epp = epp_member(program, ctx.user_id, today)
    scope = Scope(company_id, ctx.user_id, currency, today, active, epp)
    if grants and ctx.catalog_ids:
        catalogs = []
        if company_id is not None:
            catalogs = session.scalars(select(CustomCatalog).where(
                CustomCatalog.company_id == company_id,
                CustomCatalog.id.in_([int(i) for i in ctx.catalog_ids]))).all()
        scope.catalogs = list(catalogs)
        scope.allowed = or_(*[catalog_condition(session, scope, c) for c in catalogs]) \
            if catalogs else false()
    return scope


def on_contract_condition(scope: Scope):
    """Products with an active contract price of the caller's company in its currency."""
    if not scope.active_contracts:
        return false()
    # an uncorrelated IN: both engines build the set once (a correlated EXISTS could probe
    # the contract's prices once per product)
    return Product.part_number.in_(select(ContractPrice.part_number).where(
        ContractPrice.company_id == scope.company_id,
        ContractPrice.contract_id.in_(list(scope.active_contracts)),
        ContractPrice.currency == scope.currency, ContractPrice.min_quantity <= 1))


def favorite_part_numbers(session, company_id) -> set:
    parts = set()
    for kind, data in session.execute(select(Favorite.kind, Favorite.data).where(
            Favorite.company_id == company_id)):
        if kind == "product":
            parts.add(data["part_number"])
        elif kind == "comparison":
            parts.update(data["part_numbers"])
        elif kind == "bundle":
            parts.update(line["part_number"] for line in data["lines"])
    return parts


def criteria_conditions(session, scope: Scope, criteria: dict, skip=()) -> list:
    """SQL conditions for search criteria (q and the filters), except those in `skip`."""
    conds = []
    words = terms(criteria.get("q"))
    if words and "q" not in skip:
        conds.append(FullText(session, words).condition())
    for key, column in (("manufacturer", Product.manufacturer), ("category", Product.category),
                        ("language", Product.language), ("availability", Product.availability)):
        if criteria.get(key) and key not in skip:
            conds.append(column == criteria[key])
    if criteria.get("on_contract") is not None and "on_contract" not in skip:
        cond = on_contract_condition(scope)
        conds.append(cond if criteria["on_contract"] else not_(cond))
    if "price" not in skip:
        conds += facet_counts.price_conditions(scope, criteria)
    return conds


def _filter_conditions(scope, spec: dict) -> list:
    """Conditions for one include/exclude mapping, one per criterion given."""
    conds = []
    for key, column in (("manufacturers", Product.manufacturer), ("categories", Product.category),
                        ("languages", Product.language)):
        if spec.get(key):
            conds.append(column.in_(spec[key]))
    if spec.get("off_contract"):
        conds.append(not_(on_contract_condition(scope)))
    return conds


def rule_condition(session, scope: Scope, company_id, rule: dict):
    kind = rule["type"]
    if kind == "standards":
        parts = favorite_part_numbers(session, company_id)
        return Product.part_number.in_(sorted(parts)) if parts else false()
    if kind == "contract":
        return Product.part_number.in_(select(ContractPrice.part_number).where(
            ContractPrice.company_id == company_id,
            ContractPrice.contract_id.in_(rule["contract_ids"])))
    if kind == "part_numbers":
        return Product.part_number.in_(rule["part_numbers"])
    if kind == "mfg_part_numbers":
        return Product.mfg_part_number.in_(rule["mfg_part_numbers"])
    if kind == "purchase_history":
        return Product.part_number.in_(select(PurchaseHistory.part_number).where(
            PurchaseHistory.company_id == company_id))
    if kind == "saved_search":
        saved = session.scalar(select(SavedSearch).where(SavedSearch.company_id == company_id,
                                                         SavedSearch.id == rule["saved_search_id"]))
        if saved is None:  # deleted since: the rule matches nothing rather than everything
            return false()
        return and_(true(), *criteria_conditions(session, scope, saved.criteria))
    raise Invalid(f"unknown catalog rule {kind!r}", code="unknown_catalog_rule")


def catalog_condition(session, scope: Scope, catalog: CustomCatalog):
    """The products a custom catalog allows, as one SQL condition."""
    conds = [rule_condition(session, scope, catalog.company_id, r) for r in catalog.rules or []]
    conds += _filter_conditions(scope, catalog.include or {})
    excluded = _filter_conditions(scope, catalog.exclude or {})
    if excluded:
        conds.append(not_(or_(*excluded)))
    return and_(true(), *conds)


def allows(catalog, values, on_contract) -> bool:
    """catalog_condition for a catalog without rules, on one product's column values
    (manufacturer, category, language, availability) from the column snapshot."""
    manufacturer, category, language, _ = values
    for spec, wanted in ((catalog.include or {}, True), (catalog.exclude or {}, False)):
        hits = []
        for key, value in (("manufacturers", manufacturer), ("categories", category),
                           ("languages", language)):
            if spec.get(key):
                hits.append(value in spec[key])
        if spec.get("off_contract"):
            hits.append(not on_contract)
        if wanted and not all(hits):
            return False
        if not wanted and any(hits):
            return False
    return True


def company_catalog(session, ctx, catalog_id) -> CustomCatalog:
    return company_row(session, ctx, CustomCatalog, catalog_id, "catalog")


def normalise_part_number(part_number) -> str:
    return str(part_number or "").strip().upper()


def visible_products(session, scope: Scope, part_numbers) -> tuple[dict, set]:
    """({part_number: Product}, ids of those the caller may see) for exact part numbers."""
    wanted = sorted({normalise_part_number(p) for p in part_numbers} - {""})
    found = {}
    for i in range(0, len(wanted), 500):
        for product in session.scalars(select(Product).where(Product.part_number.in_(wanted[i:i + 500]))):
            found[product.part_number] = product
    if scope.allowed is None:
        return found, {p.id for p in found.values()}
    ids = [p.id for p in found.values()]
    allowed = set()
    for i in range(0, len(ids), 500):
        allowed.update(session.scalars(select(Product.id).where(Product.id.in_(ids[i:i + 500]),
                                                                 scope.allowed)))
    return found, allowed


def catalogs_holding(session, scope: Scope, product_ids) -> dict:
    """{product id: [ids of the company's custom catalogs that allow it]}: approval
    workflows have rules on "a line from these catalogs"."""
    out = {i: [] for i in product_ids}
    if scope.company_id is None or not product_ids:
        return out
    for catalog in session.scalars(select(CustomCatalog).where(
            CustomCatalog.company_id == scope.company_id).order_by(CustomCatalog.id)):
        for product_id in session.scalars(select(Product.id).where(
                Product.id.in_(list(product_ids)), catalog_condition(session, scope, catalog))):
            out[product_id].append(catalog.id)
    return out
