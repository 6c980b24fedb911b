"""Contracts: a company's negotiated prices by part number, with dates and quantity tiers
(staff create them; the company's users read them)."""
from dataclasses import dataclass

from sqlalchemy import func, select

from services.catalog import importer
from services.catalog.domain.pricing import ReadsThrough, contract_status
from services.catalog.domain.products import SOURCE, existing_part_numbers
from services.common.access import require_company, require_staff
from services.catalog.domain.visibility import normalise_part_number
from services.catalog.models import Contract, ContractPrice
from services.common.clock import utc_today
from services.common.errors import Invalid
from services.common.money import Money
from services.common.outbox import emit
from services.common.paging import keyset_page


@dataclass
class ContractOnDay(ReadsThrough):
    """A contract with its status on a given day and how many prices it holds; reads
    through to the contract's own fields."""
    contract: Contract
    status: str
    price_count: int
    _through = "contract"


def on_day(contract: Contract, today, price_count: int) -> ContractOnDay:
    return ContractOnDay(contract, contract_status(contract.starts_on, contract.ends_on, today),
                         price_count)


def create_contract(session, ctx, company_id: int, data: dict, company_currency=None,
                    today=None) -> ContractOnDay:
    """A contract for a company with its prices by part number (staff); emits
    contract_changed. `data`: {name, starts_on, ends_on (dates), tiers [{name,
    min_quantity}], prices [{part_number, price {amount, currency}, tier?}]}."""
    require_staff(ctx)
    today = today or utc_today()
    if data["ends_on"] < data["starts_on"]:
        raise Invalid("a contract ends after it starts", code="invalid_contract_dates",
                      errors={"ends_on": ["Must be on or after starts_on."]})
    tiers = {}
    for i, tier in enumerate(data.get("tiers") or []):
        if tier["name"] in tiers:
            raise Invalid("tier names must differ", code="tier_names_repeated",
                          errors={"tiers": {str(i): {"name": ["Repeated."]}}})
        tiers[tier["name"]] = int(tier.get("min_quantity") or 1)
    prices = data.get("prices") or []
    parts = [normalise_part_number(p["part_number"]) for p in prices]
    known = existing_part_numbers(session, parts)
    errors, seen = {}, set()
    for i, (p, part) in enumerate(zip(prices, parts)):
        problems = {}
        if part not in known:
            problems["part_number"] = ["No product has this part number."]
        tier = p.get("tier")
        if tier is not None and tier not in tiers:
            problems["tier"] = ["Not one of the contract's tiers."]
        currency = p["price"]["currency"]
        if company_currency and currency != company_currency:
            problems["price"] = [f"Prices must be in the company's currency, {company_currency}."]
        if (part, tier) in seen:
            problems["part_number"] = problems.get("part_number", []) + ["Priced twice for this tier."]
        seen.add((part, tier))
        if problems:
            errors[str(i)] = problems
    if errors:
        raise Invalid("some contract prices are not valid", code="invalid_contract_prices",
                      errors={"prices": errors})
    contract = Contract(company_id=company_id, name=data["name"], starts_on=data["starts_on"],
                        ends_on=data["ends_on"],
                        tiers=[{"name": n, "min_quantity": q} for n, q in tiers.items()])
    session.add(contract)
    session.flush()
    importer.insert_many(session, ContractPrice.__table__, [
        {"contract_id": contract.id, "company_id": company_id, "part_number": part,
         "amount": Money.from_dict(p["price"]).amount, "currency": p["price"]["currency"],
         "tier": p.get("tier"), "min_quantity": tiers.get(p.get("tier"), 1)}
        for p, part in zip(prices, parts)])
    emit(session, SOURCE, "contract_changed", {"company_id": company_id, "contract_id": contract.id})
    return on_day(contract, today, len(prices))


def list_contracts(session, ctx, limit=50, cursor=None, today=None, company_id=None) -> dict:
    """The caller's company's contracts, newest first; staff name a company."""
    if company_id is None:
        require_company(ctx)
    else:
        require_staff(ctx)
    today = today or utc_today()
    rows, next_cursor = keyset_page(
        session, select(Contract).where(Contract.company_id == (company_id or ctx.company_id)),
        Contract.id, limit, cursor, descending=True)
    counts = dict(session.execute(select(ContractPrice.contract_id, func.count()).where(
        ContractPrice.contract_id.in_([c.id for c in rows])).group_by(ContractPrice.contract_id)).all()) \
        if rows else {}
    return {"items": [on_day(c, today, counts.get(c.id, 0)) for c in rows],
            "next_cursor": next_cursor}
