"""The demo catalog: deterministic, realistic, and seeded with an active contract."""
from decimal import Decimal

from sqlalchemy import func, select

from services.catalog import demo
from services.catalog.domain import products
from services.catalog.models import Base, ContractPrice, Product
from services.common.context import CallerContext


def test_products_are_deterministic_and_unique():
    first = list(demo.generate_products(2000, seed=1))
    assert first == list(demo.generate_products(2000, seed=1))
    assert first != list(demo.generate_products(2000, seed=2))
    assert len({p["part_number"] for p in first}) == 2000
    assert [p["part_number"] for p in first[:5]] == [
        "LEN-20XW0042US", "DEL-N021L545014CA", "HP-8A3F9UTABL", "CSC-C9200L-24P-4G-E",
        "LOG-920-011558"]
    assert {p["currency"] for p in first} == {"CAD", "USD"}
    assert {p["language"] for p in first} == {"en", "fr"}
    assert len({p["manufacturer"] for p in first}) == 20
    assert {"Notebooks", "Desktops", "Monitors", "Networking", "Storage", "Software Licenses",
            "Printers", "Accessories", "Servers", "Power", "Audio"} <= {p["category"] for p in first}
    # a prefix of a longer run is the same products
    assert list(demo.generate_products(100)) == first[:100]


def test_seed_imports_products_and_an_active_contract(session_factory):
    session = session_factory("catalog", Base)
    result = demo.seed(session, 7, 600)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Product)) == 600
    assert result["part_numbers"][0] == "LEN-20XW0042US" and len(result["part_numbers"]) == 600
    prices = session.scalars(select(ContractPrice).where(ContractPrice.tier.is_(None))).all()
    assert 150 <= len(prices) <= 200
    lists = dict(session.execute(select(Product.part_number, Product.list_price)).all())
    for price in prices:
        discount = 1 - Decimal(price.amount) / Decimal(lists[price.part_number])
        assert Decimal("0.09") <= discount <= Decimal("0.26")
    buyer = CallerContext(user_id=1, company_id=7, currency="CAD")
    line = products.price_lines(session, buyer, "CAD", [{"part_number": result["part_numbers"][0]}])
    assert line["lines"][0]["status"] == "ok" and line["lines"][0]["price_source"] == "contract"
    # again: products updated in place, the contract made once
    again = demo.seed(session, 7, 600)
    assert again["contract_id"] == result["contract_id"]
    assert session.scalar(select(func.count()).select_from(Product)) == 600
