"""Every standard report's figures against totals computed here from the orders placed."""
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import Forbidden, Invalid, NotFound
from services.reporting.domain import facts, reports

from .conftest import COMPANY, caller, expected_spend

TODAY = date(2026, 12, 31)


def run_all(db, ctx, key, **kw):
    """Every row of a report, read page by page as a client would."""
    rows, cursor = [], None
    while True:
        page = reports.run(db, ctx, key, TODAY, cursor=cursor, limit=7, **kw)
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def test_the_standard_reports_are_listed_with_titles_columns_and_filters(db):
    listed = reports.list_reports(db, caller())
    keys = [r["key"] for r in listed]
    assert len(keys) == len(set(keys)) >= 17
    assert {"orders_summary", "order_lines", "spend_by_month", "spend_by_quarter",
            "spend_by_manufacturer", "spend_by_category", "spend_by_buyer",
            "spend_by_billing_account", "spend_by_shipping_location",
            "top_products_by_quantity", "top_products_by_spend", "contract_spend",
            "open_orders", "shipments", "invoices", "payments_by_card",
            "approval_turnaround"} <= set(keys)
    by_key = {r["key"]: r for r in listed}
    assert by_key["spend_by_category"]["title"] == {"en": "Spend by category",
                                                    "fr": "Dépenses par catégorie"}
    assert set(by_key["order_lines"]["filters"]) >= {"from", "to", "buyer", "billing_account",
                                                     "manufacturer", "category", "status"}
    # a caller with order reports only does not see the payment reports
    only_orders = {r["key"] for r in reports.list_reports(db, caller(features=["order_reports"]))}
    assert "invoices" not in only_orders and "payments_by_card" not in only_orders
    assert "order_lines" in only_orders


def test_spend_reports_match_the_orders(loaded, history):
    ctx = caller()
    cases = {
        "spend_by_month": (("month",), lambda o, l: o["at"].strftime("%Y-%m")),
        "spend_by_quarter": (("quarter",),
                             lambda o, l: f"{o['at'].year}-Q{(o['at'].month - 1) // 3 + 1}"),
        "spend_by_manufacturer": (("manufacturer",), lambda o, l: l["manufacturer"]),
        "spend_by_category": (("category",), lambda o, l: l["category"]),
        "spend_by_buyer": (("buyer",), lambda o, l: o["buyer"]["name"]),
        "spend_by_billing_account": (("billing_account",),
                                     lambda o, l: o["billing"] and str(o["billing"])),
        "spend_by_shipping_location": (
            ("ship_to",), lambda o, l: f"{o['place']['city']}, {o['place']['region']}, CA"),
        "contract_spend": (("contract",),
                           lambda o, l: "contract" if l["on_contract"] else "off_contract"),
    }
    for key, (dims, group) in cases.items():
        want = expected_spend(history, group)
        rows = run_all(loaded, ctx, key)
        got = {r[dims[0]]: (r["orders"], r["lines"], r["quantity"], Decimal(r["spend"]))
               for r in rows}
        assert got == want, key
        assert {r["currency"] for r in rows} == {"CAD"}
    months = [r["month"] for r in run_all(loaded, ctx, "spend_by_month")]
    assert months == sorted(months)
    by_maker = [Decimal(r["spend"]) for r in run_all(loaded, ctx, "spend_by_manufacturer")]
    assert by_maker == sorted(by_maker, reverse=True)


def test_spend_reports_over_windows_that_cut_months(loaded, history):
    """Whole months come from the rollups, the days of the months a window cuts from the
    facts: together they make the orders' own totals."""
    ctx = caller()
    cases = {"spend_by_month": ("month",), "spend_by_buyer": ("buyer", "buyer_email"),
             "spend_by_manufacturer": ("manufacturer",), "contract_spend": ("contract",)}
    groups = {"spend_by_month": lambda o, l: o["at"].strftime("%Y-%m"),
              "spend_by_buyer": lambda o, l: (o["buyer"]["name"], o["buyer"]["email"]),
              "spend_by_manufacturer": lambda o, l: l["manufacturer"],
              "contract_spend": lambda o, l: "contract" if l["on_contract"] else "off_contract"}
    days = sorted(o["at"].date() for o in history.orders)
    windows = [(days[3], days[-4], True),                 # cuts a month at each end
               (days[3].replace(day=1), days[-4], True),  # starts on a whole month
               (days[5], days[5], False),                 # one day: facts only
               (date(2024, 1, 1), TODAY, True)]           # whole months only
    for first, last, rolled_up in windows:
        for key, dims in cases.items():
            query = reports.prepare(loaded, ctx, key, TODAY, first, last)[1]
            assert (query.grain is not None) == rolled_up, (key, first, last)
            rows = run_all(loaded, ctx, key, date_from=first, date_to=last)
            got = {tuple(r[d] for d in dims) if len(dims) > 1 else r[dims[0]]:
                   (r["orders"], r["lines"], r["quantity"], Decimal(r["spend"])) for r in rows}
            assert got == expected_spend(history, groups[key], first, last), (key, first, last)
    top = run_all(loaded, ctx, "top_products_by_spend", date_from=days[3], date_to=days[-4])
    want = expected_spend(history, lambda o, l: l["part_number"], days[3], days[-4])
    assert {r["part_number"]: Decimal(r["spend"]) for r in top} == {
        k: v[3] for k, v in want.items()}
    # a filter the rollups do not keep (the buyer's id) reads the facts
    query = reports.prepare(loaded, ctx, "spend_by_manufacturer", TODAY,
                            filters={"buyer": "7"})[1]
    assert query.grain is None


def test_rollups_follow_each_order_as_a_sum_from_the_facts_would(loaded):
    """Kept event by event (rejections and cancellations take lines out again), the rollups
    hold the rows that summing them afresh from the line facts gives."""
    from sqlalchemy import select

    from services.reporting.domain import rollups
    from services.reporting.models import SpendRollup
    columns = [c for c in SpendRollup.__table__.c if c.name != "id"]

    def rows():
        return sorted(loaded.execute(select(*columns)).all(), key=repr)

    kept = rows()
    assert kept and all(r.lines > 0 for r in kept)
    rollups.refresh(loaded)
    assert rows() == kept
    rollups.refresh(loaded, COMPANY)
    assert rows() == kept


def test_top_products(loaded, history):
    want = expected_spend(history, lambda o, l: l["part_number"])
    for key, index in (("top_products_by_quantity", 2), ("top_products_by_spend", 3)):
        rows = run_all(loaded, caller(), key)
        got = {r["part_number"]: (r["quantity"], Decimal(r["spend"])) for r in rows}
        assert got == {k: (v[2], v[3]) for k, v in want.items()}
        measure = [r["quantity" if index == 2 else "spend"] for r in rows]
        assert [Decimal(m) for m in measure] == sorted((Decimal(m) for m in measure),
                                                       reverse=True)


def test_orders_summary_open_orders_and_order_lines(loaded, history):
    ctx = caller()
    want = defaultdict(lambda: [0, Decimal(0)])
    for o in history.orders:
        g = want[(o["at"].strftime("%Y-%m"), o["status"])]
        g[0] += 1
        g[1] += o["total"]
    got = {(r["month"], r["status"]): [r["orders"], Decimal(r["total"])]
           for r in run_all(loaded, ctx, "orders_summary")}
    assert got == dict(want)

    open_numbers = [r["order_number"] for r in run_all(loaded, ctx, "open_orders")]
    assert open_numbers == [o["number"] for o in history.orders
                            if o["status"] in ("pending_approval", "approved", "shipped")]

    lines = run_all(loaded, ctx, "order_lines")
    assert len(lines) == sum(len(o["lines"]) for o in history.orders)
    assert sum(Decimal(r["spend"]) for r in lines) == sum(o["total"] for o in history.orders)
    assert [r["placed_on"] for r in lines] == sorted(r["placed_on"] for r in lines)
    # filters: one buyer, one manufacturer, one status
    ann = run_all(loaded, ctx, "order_lines", filters={"buyer": "7", "manufacturer": "Dell"})
    assert len(ann) == sum(1 for o in history.orders if o["buyer"]["user_id"] == 7
                           for l in o["lines"] if l["manufacturer"] == "Dell")
    rejected = run_all(loaded, ctx, "order_lines", filters={"status": "rejected"})
    assert {r["status"] for r in rejected} <= {"rejected"}
    assert len(rejected) == sum(len(o["lines"]) for o in history.orders
                                if o["status"] == "rejected")


def test_shipments_invoices_and_payments_by_card(loaded, history):
    ctx = caller()
    ships = run_all(loaded, ctx, "shipments")
    assert [r["order_number"] for r in ships] == [s["order"] for s in history.shipments]
    delivered = {s["order"]: s["delivered"].date().isoformat()
                 for s in history.shipments if "delivered" in s}
    assert {r["order_number"]: r["delivered_on"] for r in ships if r["delivered_on"]} == delivered

    invoices = run_all(loaded, ctx, "invoices")
    assert [(r["invoice_number"], Decimal(r["total"])) for r in invoices] == \
        [(i["number"], i["total"]) for i in history.invoices]

    want = defaultdict(lambda: [0, Decimal(0)])
    for o in history.orders:
        if o["payment"]["method"] == "card" and o["status"] not in ("rejected", "cancelled"):
            card = o["payment"]["card"]
            want[(card["brand"], card["last4"])][0] += 1
            want[(card["brand"], card["last4"])][1] += o["total"]
    got = {(r["card_brand"], r["card_last4"]): [r["orders"], Decimal(r["total"])]
           for r in run_all(loaded, ctx, "payments_by_card")}
    assert got == dict(want)


def test_approval_turnaround(loaded, history):
    want = defaultdict(lambda: Counter())
    seconds = defaultdict(list)
    for a in history.approvals:
        want[a["month"]]["requests"] += 1
        want[a["month"]][a["decision"]] += 1
        if a["seconds"] is not None:
            seconds[a["month"]].append(a["seconds"])
    rows = run_all(loaded, caller(), "approval_turnaround")
    assert {r["month"]: (r["requests"], r["approved"], r["rejected"], r["pending"])
            for r in rows} == {m: (c["requests"], c["approved"], c["rejected"], c["pending"])
                               for m, c in want.items()}
    for r in rows:
        if seconds[r["month"]]:
            mean = sum(seconds[r["month"]]) / len(seconds[r["month"]]) / 3600
            assert r["hours_to_decide"] == pytest.approx(mean, abs=0.06)


def test_windows_rights_and_isolation(loaded, history):
    ctx = caller()
    with pytest.raises(Invalid) as too_long:
        reports.run(loaded, ctx, "order_lines", TODAY, date(2022, 1, 1), date(2025, 1, 2))
    assert too_long.value.code == "range_too_long"
    reports.run(loaded, ctx, "order_lines", TODAY, date(2022, 1, 2), date(2025, 1, 2))
    with pytest.raises(Invalid):
        reports.run(loaded, ctx, "order_lines", TODAY, date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(Invalid):
        reports.run(loaded, ctx, "shipments", TODAY, filters={"manufacturer": "Dell"})
    with pytest.raises(Forbidden):
        reports.run(loaded, caller(features=["order_reports"]), "invoices", TODAY)
    with pytest.raises(Forbidden):
        reports.run(loaded, caller(features=["payment_reports"]), "order_lines", TODAY)
    with pytest.raises(NotFound):
        reports.run(loaded, ctx, "nope", TODAY)
    # a window picks the orders placed in it, both ends included
    first = history.orders[0]["at"].date()
    page = reports.run(loaded, ctx, "orders_summary", TODAY, first, first)
    assert sum(r["orders"] for r in page["items"]) == sum(
        1 for o in history.orders if o["at"].date() == first)
    # another company sees only its own orders
    other = caller(company_id=COMPANY + 1)
    numbers = {r["order_number"] for r in run_all(loaded, other, "order_lines")}
    assert numbers and not numbers & {o["number"] for o in history.orders}


def test_events_apply_once_and_wait_for_their_order(db, history):
    placed = history.events[0]
    status = next(e for e in history.events if e["type"] == "order_status_changed")
    with pytest.raises(LookupError):
        facts.record_event(db, status)
    db.rollback()
    assert facts.record_event(db, placed) is True
    assert facts.record_event(db, placed) is False  # the same event again
    again = dict(placed, event_id="another-delivery")  # the same order under a new id
    facts.record_event(db, again)
    db.commit()
    rows = reports.run(db, caller(), "order_lines", TODAY)["items"]
    assert len(rows) == len(history.orders[0]["lines"])


def test_custom_reports(loaded, history):
    ctx = caller()
    saved = reports.save_custom(loaded, ctx, "Dell by buyer", ["buyer", "quantity", "spend"],
                                ["buyer"], {"manufacturer": "Dell"})
    assert saved["custom"] and saved["key"].startswith("custom-")
    assert "manufacturer" not in saved["filters"]
    rows = run_all(loaded, ctx, saved["key"])
    want = expected_spend(history, lambda o, l: o["buyer"]["name"]
                          if l["manufacturer"] == "Dell" else None)
    want.pop(None, None)
    # a custom report counts every order, rejected or not: totals from all orders here
    every = defaultdict(lambda: [0, Decimal(0)])
    for o in history.orders:
        for l in o["lines"]:
            if l["manufacturer"] == "Dell":
                every[o["buyer"]["name"]][0] += l["quantity"]
                every[o["buyer"]["name"]][1] += Decimal(l["line_total"]["amount"])
    assert {r["buyer"]: [r["quantity"], Decimal(r["spend"])] for r in rows} == dict(every)
    assert saved["key"] in [r["key"] for r in reports.list_reports(loaded, ctx)]
    # another user of the company neither sees nor runs it
    colleague = caller(user_id=8)
    assert saved["key"] not in [r["key"] for r in reports.list_reports(loaded, colleague)]
    with pytest.raises(NotFound):
        reports.run(loaded, colleague, saved["key"], TODAY)
    for bad in ({"columns": ["nope"], "group_by": []},
                {"columns": ["buyer", "spend"], "group_by": []},  # unit row has spend: fine
                {"columns": ["orders"], "group_by": []},
                {"columns": ["buyer", "product"], "group_by": ["buyer"]}):
        if bad["columns"] == ["buyer", "spend"]:
            reports.save_custom(loaded, ctx, "x", bad["columns"], bad["group_by"])
            continue
        with pytest.raises(Invalid):
            reports.save_custom(loaded, ctx, "x", bad["columns"], bad["group_by"])
    reports.delete_custom(loaded, ctx, saved["key"])
    with pytest.raises(NotFound):
        reports.run(loaded, ctx, saved["key"], TODAY)
    with pytest.raises(NotFound):
        reports.delete_custom(loaded, ctx, "order_lines")


def test_the_calendars_first_and_last_days_and_cursors_beyond_64_bits_are_no_500(loaded):
    ctx = caller()
    for key in ("orders_summary", "order_lines"):
        assert reports.run(loaded, ctx, key, TODAY, date(9997, 1, 1), date.max)["items"] == []
        assert reports.run(loaded, ctx, key, TODAY, None, date(1, 1, 1))["items"] == []
        for cursor in ("9223372036854775808", "-1", "2025-01-01T00:00:00|99999999999999999999"):
            with pytest.raises(Invalid) as refused:
                reports.run(loaded, ctx, key, TODAY, cursor=cursor)
            assert refused.value.code == "invalid_cursor"
