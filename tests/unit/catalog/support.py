"""Helpers for catalog's domain tests: a few products, callers of two companies, contracts
around a fixed day, and the outbox."""
from datetime import date, timedelta

from services.common.context import CallerContext
from tests.support.databases import outbox_payloads

TODAY = date(2026, 11, 22)
STAFF = CallerContext(user_id=1, staff=True)
BUYER = CallerContext(user_id=10, company_id=1, currency="CAD")
ADMIN = CallerContext(user_id=11, company_id=1, currency="CAD",
                      roles=["catalog_admin", "eprocurement_admin"])
OTHER = CallerContext(user_id=20, company_id=2, currency="CAD",
                      roles=["catalog_admin", "eprocurement_admin"])


def product(part, manufacturer="Lenovo", category="Notebooks", name=None, price="1000.00",
            currency="CAD", language="en", availability="in_stock", description="",
            mfg=None, epp=""):
    return {"part_number": part, "mfg_part_number": mfg or f"M{part}", "manufacturer": manufacturer,
            "category": category, "name": name or f"{manufacturer} {part}",
            "description": description, "list_price": price, "currency": currency,
            "language": language, "availability": availability, "epp_price": epp}


PRODUCTS = [
    product("LEN-T14", name="Lenovo ThinkPad T14 Gen 5 32GB", price="1549.00"),
    product("LEN-X1", name="Lenovo ThinkPad X1 Carbon Gen 12 16GB", price="2499.00", epp="2299.00"),
    product("LEN-M70Q", category="Desktops", name="Lenovo ThinkCentre M70q Tiny", price="899.00"),
    product("DEL-5450", manufacturer="Dell", name="Dell Latitude 5450 32GB", price="1649.00"),
    product("DEL-U2724", manufacturer="Dell", category="Monitors", name="Dell UltraSharp U2724D",
            price="579.00", language="fr", description="Écran 27 po QHD"),
    product("HP-E24", manufacturer="HP", category="Monitors", name="HP E24 G5 monitor",
            price="269.00", currency="USD"),
    product("LOG-MXK", manufacturer="Logitech", category="Accessories", name="Logitech MX Keys S",
            price="139.99", availability="discontinued"),
]


def events(session, event_type=None):
    return outbox_payloads(session, event_type)


def contract(session, company_id=1, prices=(), starts=-10, ends=10, tiers=(), name=None):
    """A contract around TODAY; prices as (part_number, amount[, tier[, currency]])."""
    from tests.unit.catalog import replies
    return replies.create_contract(session, STAFF, company_id, {
        "name": name or f"Contract {starts}/{ends}",
        "starts_on": TODAY + timedelta(days=starts), "ends_on": TODAY + timedelta(days=ends),
        "tiers": [{"name": n, "min_quantity": q} for n, q in tiers],
        "prices": [{"part_number": p[0], "tier": p[2] if len(p) > 2 else None,
                    "price": {"amount": p[1], "currency": p[3] if len(p) > 3 else "CAD"}}
                   for p in prices]}, today=TODAY)


def parts(result):
    return [item["part_number"] for item in result["items"]]
