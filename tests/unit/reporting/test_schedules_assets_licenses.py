"""Schedules with a clock the test controls, assets, licenses, CSV, and the rebuild."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from services.common.csvout import BOM, csv_text
from services.common.errors import Forbidden, Invalid, NotFound
from services.reporting.domain import assets, facts, licenses, reports, schedules
from tests.support.databases import outbox_payloads

from .conftest import caller

TODAY = date(2026, 12, 31)


def parse_csv(text):
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM):])))


def test_csv_has_a_bom_and_neutralises_formulas():
    text = csv_text(["a", "b"], [["=SUM(A1)", Decimal("-3.50")], ["+1", "@x"], ["-x", "\tx"],
                                  ["\rx", "plain, with comma"], ["Montréal", None]])
    rows = parse_csv(text)
    assert rows[0] == ["a", "b"]
    assert rows[1] == ["'=SUM(A1)", "-3.50"]  # a number stays a number
    assert rows[2] == ["'+1", "'@x"]
    assert rows[3] == ["'-x", "'\tx"]
    assert rows[4] == ["'\rx", "plain, with comma"]
    assert rows[5] == ["Montréal", ""]


def test_report_csv_pages_make_one_document(loaded, history):
    ctx = caller()
    text, cursor = "", None
    while True:
        page = reports.csv_page(loaded, ctx, "order_lines", TODAY, cursor=cursor, limit=9)
        text += page["csv"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    rows = parse_csv(text)
    assert rows[0][:3] == ["placed_on", "order_number", "buyer"]
    assert len(rows) - 1 == sum(len(o["lines"]) for o in history.orders)
    product = rows[0].index("product")
    assert "'=HYPERLINK(\"http://x\")" in {r[product] for r in rows[1:]}
    assert all(not r[product].startswith("=") for r in rows[1:])
    assert page["filename"] == "order_lines.csv"


def test_csv_written_by_the_database_is_the_csv_of_the_report_rows(loaded):
    """Each report's CSV, whose cells the database writes (text cells quoted), reads as what
    the csv module makes of the rows of its JSON pages: amounts, days, renewals, quotes,
    line breaks and neutralised cells."""
    from services.reporting.domain import engine
    from .conftest import COMPANY, envelope, money
    odd = [("-credit", "-0.05", 1), ("Cable\x1fkit", "-10.00", 2),   # a separator in a value
           ("Dock, \"USB-C\"\nv2", "12.30", 3), ("@home", "0.00", 1)]
    lines = [{"part_number": f"ODD-{n}", "name": name, "manufacturer": "+Maker",
              "category": "Software", "quantity": qty, "unit_price": money(price),
              "line_total": money(Decimal(price) * qty)} for n, (name, price, qty) in enumerate(odd)]
    facts.record_event(loaded, envelope("orders", "order_placed", {
        "order_number": "SO-ODD", "company_id": COMPANY, "currency": "CAD", "lines": lines,
        "buyer": {"user_id": 7, "name": "=Ann", "email": "ann@acme.test"},
        "placed_at": "2024-02-29T23:59:59Z"}, datetime(2024, 2, 29, 23, 59, 59)))
    loaded.commit()
    for report in reports.STANDARD:
        query = reports.prepare(loaded, caller(), report.key, TODAY)[1]
        by_row = csv_text(query.columns, query.stream(loaded, batch=7), query.text_columns)
        assert parse_csv(engine.csv_document(query, loaded, limit=7)) == parse_csv(by_row), \
            report.key
    rows = parse_csv(engine.csv_document(
        reports.prepare(loaded, caller(), "licenses", TODAY)[1], loaded))
    odd_rows = [r for r in rows if r[1] == "SO-ODD"]
    assert [r[3] for r in odd_rows] == ["'-credit", "Cable\x1fkit", "Dock, \"USB-C\"\nv2", "'@home"]
    assert [r[6] for r in odd_rows] == ["-0.05", "-20.00", "36.90", "0.00"]
    assert {r[-1] for r in odd_rows} == {"2025-02-28"}  # a year after 29 February


def test_schedules_send_each_period_once_and_catch_up_once(loaded, history):
    ctx = caller()
    created = schedules.create(loaded, ctx, {
        "report_key": "spend_by_manufacturer", "params": {"category": "Notebooks"},
        "frequency": "monthly", "recipients": [{"email": "cfo@acme.test", "locale": "fr"}]},
        now=datetime(2025, 3, 15, 10, 0))
    quarterly = schedules.create(loaded, ctx, {
        "report_key": "order_lines", "params": {}, "frequency": "quarterly",
        "recipients": [{"email": "ops@acme.test"}]}, now=datetime(2025, 2, 10))
    assert created["next_run_at"] == "2025-04-01T00:00:00Z"
    assert quarterly["next_run_at"] == "2025-04-01T00:00:00Z"
    loaded.commit()

    def sent():
        return outbox_payloads(loaded, "report_ready")

    assert schedules.run_due(loaded, datetime(2025, 3, 31, 23, 59)) == []
    assert schedules.run_due(loaded, datetime(2025, 4, 1, 0, 0)) == [created["id"],
                                                                      quarterly["id"]]
    assert schedules.run_due(loaded, datetime(2025, 4, 1, 0, 5)) == []  # once
    loaded.commit()
    monthly, quarter = sent()
    assert monthly["period"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert monthly["recipients"] == [{"email": "cfo@acme.test", "locale": "fr"}]
    assert monthly["filename"] == "spend_by_manufacturer_2025-03-01_2025-03-31.csv"
    assert monthly["title"] == "Spend by manufacturer"  # the creator's language
    rows = parse_csv(monthly["csv"])
    want = {}
    for o in history.orders:
        if o["at"].strftime("%Y-%m") == "2025-03" and o["status"] not in ("rejected", "cancelled"):
            for l in o["lines"]:
                if l["category"] == "Notebooks":
                    want[l["manufacturer"]] = want.get(l["manufacturer"], 0) + Decimal(
                        l["line_total"]["amount"])
    spend = rows[0].index("spend")
    assert {r[0]: Decimal(r[spend]) for r in rows[1:]} == want
    assert quarter["period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    assert len(parse_csv(quarter["csv"])) - 1 == sum(
        len(o["lines"]) for o in history.orders if o["at"] < datetime(2025, 4, 1))

    # the service was down from May to August: one report, for July, not one per month
    assert schedules.run_due(loaded, datetime(2025, 8, 20, 8, 0)) == [created["id"],
                                                                       quarterly["id"]]
    loaded.commit()
    assert [p["period"] for p in sent()[2:]] == [{"from": "2025-07-01", "to": "2025-07-31"},
                                                 {"from": "2025-04-01", "to": "2025-06-30"}]
    listed = {s["id"]: s for s in schedules.list_schedules(loaded, ctx)["items"]}
    assert listed[created["id"]]["next_run_at"] == "2025-09-01T00:00:00Z"
    assert listed[quarterly["id"]]["next_run_at"] == "2025-10-01T00:00:00Z"

    with pytest.raises(Forbidden):
        schedules.create(loaded, caller(features=["order_reports"]), {
            "report_key": "invoices", "frequency": "monthly",
            "recipients": [{"email": "x@acme.test"}]}, now=datetime(2025, 1, 1))
    with pytest.raises(Invalid):
        schedules.create(loaded, ctx, {"report_key": "shipments", "params": {"category": "x"},
                                       "frequency": "monthly",
                                       "recipients": [{"email": "x@acme.test"}]},
                         now=datetime(2025, 1, 1))
    with pytest.raises(NotFound):
        schedules.delete(loaded, caller(company_id=999), created["id"])
    schedules.delete(loaded, ctx, created["id"])
    assert [s["id"] for s in schedules.list_schedules(loaded, ctx)["items"]] == [quarterly["id"]]


def test_delivered_lines_become_assets_and_others_are_entered_by_hand(loaded, history):
    ctx = caller()
    delivered = [o for o in history.orders if "delivered" in o]
    page = assets.search(loaded, ctx, limit=200)
    purchased = [a for a in page["items"] if a["origin"] == "purchased"]
    assert len(purchased) == sum(len(o["lines"]) for o in delivered)
    first = delivered[0]
    mine = [a for a in purchased if a["order_number"] == first["number"]]
    assert [(a["part_number"], a["quantity"]) for a in mine] == [
        (l["part_number"], l["quantity"]) for l in first["lines"]]
    assert mine[0]["delivered_on"] == first["delivered"].date().isoformat()
    assert mine[0]["location"].startswith(first["place"]["city"])

    made = assets.create(loaded, ctx, {"name": "Projector", "manufacturer": "Epson",
                                       "serial_number": "SN-77", "location": "Room 4",
                                       "purchased_on": date(2024, 5, 2)})
    assert made["origin"] == "manual" and made["quantity"] == 1
    edited = assets.update(loaded, ctx, made["id"], {"location": "Room 5", "notes": "=1+1"})
    assert edited["location"] == "Room 5"
    purchased_edit = assets.update(loaded, ctx, mine[0]["id"], {"serial_number": "ABC123"})
    assert purchased_edit["serial_number"] == "ABC123"
    with pytest.raises(NotFound):
        assets.update(loaded, caller(company_id=999), made["id"], {"name": "mine now"})
    with pytest.raises(Invalid):
        assets.update(loaded, ctx, made["id"], {"name": None})

    assert [a["id"] for a in assets.search(loaded, ctx, q="room")["items"]] == [made["id"]]
    assert [a["id"] for a in assets.search(loaded, ctx, q="abc123")["items"]] == [mine[0]["id"]]
    manual = assets.search(loaded, ctx, filters={"origin": "manual"})["items"]
    assert [a["name"] for a in manual] == ["Projector"]
    # pages, then CSV
    seen, cursor = [], None
    while True:
        page = assets.search(loaded, ctx, limit=5, cursor=cursor)
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(purchased) + 1 == len(set(seen))
    for bad in ("x", "-1", "9223372036854775808"):
        with pytest.raises(Invalid) as refused:
            assets.search(loaded, ctx, cursor=bad)
        assert refused.value.code == "invalid_cursor"
    rows = parse_csv(assets.csv_page(loaded, ctx)["csv"])
    assert rows[0][0] == "id" and len(rows) == len(seen) + 1
    notes = rows[0].index("notes")
    assert "'=1+1" in [r[notes] for r in rows]
    # delivery events seen twice add no assets
    loaded.commit()
    for event in history.events:
        if event["type"] == "order_delivered":
            facts.apply_event(loaded, event)
    assert len(assets.search(loaded, ctx, limit=200)["items"]) == len(seen)


def test_licenses_are_the_software_lines_of_the_last_three_years(loaded, history):
    slt = caller(features=[], roles=["slt_admin"])
    result = licenses.licenses(loaded, slt, TODAY, limit=200)
    software = [(o, l) for o in history.orders if o["status"] not in ("rejected", "cancelled")
                for l in o["lines"] if l["category"] in ("Software", "Logiciels")]
    assert [i["order_number"] for i in result["items"]] == [o["number"] for o, _ in software]
    first_order, first_line = software[0]
    item = result["items"][0]
    assert item["placed_on"] == first_order["at"].date().isoformat()
    assert item["renewal_on"] == first_order["at"].date().replace(
        year=first_order["at"].year + 1).isoformat()
    totals = {(t["manufacturer"], t["part_number"]): (t["quantity"], Decimal(t["spend"]))
              for t in result["totals"]}
    want = {}
    for o, l in software:
        q, s = want.get((l["manufacturer"], l["part_number"]), (0, Decimal(0)))
        want[(l["manufacturer"], l["part_number"])] = (q + l["quantity"],
                                                       s + Decimal(l["line_total"]["amount"]))
    assert totals == want
    # slt_user works too; the order reports right alone does not
    assert licenses.licenses(loaded, caller(features=["slt_user"]), TODAY)["items"]
    with pytest.raises(Forbidden):
        licenses.licenses(loaded, caller(features=["order_reports"]), TODAY)
    # three years on, these purchases are no longer tracked
    assert licenses.licenses(loaded, slt, date(2030, 1, 1))["items"] == []
    rows = parse_csv(licenses.csv_page(loaded, slt, TODAY)["csv"])
    assert rows[0][-1] == "renewal_on" and len(rows) - 1 == len(software)


def test_rebuild_gives_identical_reports(loaded):
    ctx = caller()
    keys = [r["key"] for r in reports.list_reports(loaded, ctx)]

    def everything():
        out = {}
        for key in keys:
            text, cursor = "", None
            while True:
                page = reports.csv_page(loaded, ctx, key, TODAY, cursor=cursor, limit=50)
                text += page["csv"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            out[key] = text
        return out

    before = everything()
    assets_before = assets.search(loaded, ctx, limit=200)["items"]
    replayed = facts.rebuild(loaded)
    loaded.commit()
    assert replayed > 100
    assert everything() == before
    assert assets.search(loaded, ctx, limit=200)["items"] == assets_before


def test_rebuild_copes_with_an_event_logged_before_its_order(db, history):
    """Two handlers at once can log a status change before the order it changes."""
    from services.reporting.models import ReceivedEvent
    placed = history.events[0]
    status = next(e for e in history.events if e["type"] == "order_status_changed")
    assert status["payload"]["order_number"] == placed["payload"]["order_number"]
    for event in (status, placed):
        db.add(ReceivedEvent(event_id=event["event_id"], source=event["source"],
                             type=event["type"], occurred_at=datetime(2025, 1, 1),
                             payload=event["payload"]))
    db.flush()
    assert facts.rebuild(db) == 2
    db.commit()
    assert reports.run(db, caller(), "order_lines", TODAY)["items"][0]["status"] != \
        "pending_approval"


def test_procura_reporting_rebuild_and_run_schedules(db, history, monkeypatch, capsys):
    from services import cli
    for event in history.events:
        facts.record_event(db, event)
    schedules.create(db, caller(), {"report_key": "orders_summary", "frequency": "monthly",
                                    "recipients": [{"email": "a@acme.test"}]},
                     now=datetime(2025, 5, 3))
    db.commit()
    monkeypatch.setenv("REPORTING_DATABASE_URL", str(db.get_bind().url.render_as_string(
        hide_password=False)))
    cli.main(["reporting", "rebuild"])
    assert f"rebuilt from {len(history.events)} events" in capsys.readouterr().out
    cli.main(["reporting", "run-schedules", "--at", "2025-06-01T00:00:00Z"])
    assert "scheduled reports sent: 1" in capsys.readouterr().out
    db.rollback()  # a fresh snapshot
    assert len(outbox_payloads(db, "report_ready")) == 1


def test_partial_deliveries_make_assets_of_what_each_carried(db, history):
    placed = history.events[0]
    order = placed["payload"]
    facts.record_event(db, placed)
    first = order["lines"][0]
    parts = [first["quantity"] // 2, first["quantity"] - first["quantity"] // 2]
    for n, quantity in enumerate(p for p in parts if p):
        facts.record_event(db, {**placed, "event_id": f"delivery-{n}", "type": "order_delivered",
                                "payload": {"order_number": order["order_number"],
                                            "company_id": order["company_id"],
                                            "shipment_id": n, "delivery_note": "ok",
                                            "lines": [{"part_number": first["part_number"],
                                                       "quantity": quantity}],
                                            "delivered_at": order["placed_at"]}})
    db.commit()
    items = assets.search(db, caller())["items"]
    assert [(a["part_number"], a["quantity"]) for a in items] == [
        (first["part_number"], first["quantity"])]
