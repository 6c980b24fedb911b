"""Report rules: recording order facts from events and computing reports from them."""
import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from services.common.errors import Invalid, NotFound
from services.reporting.models import OrderFact, OrderLineFact

MAX_RANGE = timedelta(days=3 * 366)

REPORTS = {
    "orders_summary": {"title": "Orders summary",
                       "columns": ["month", "status", "orders", "total", "currency"],
                       "filters": ["from", "to", "status"]},
}


def parse_time(value):
    return datetime.fromisoformat(value.replace("Z", "")).replace(tzinfo=None)


def record_order_placed(session, p):
    if session.scalar(select(OrderFact).where(OrderFact.order_number == p["order_number"])):
        return
    placed = parse_time(p["placed_at"])
    session.add(OrderFact(order_number=p["order_number"], company_id=p["company_id"],
                          user_id=p["user_id"], status="pending_approval", currency=p["currency"],
                          total=Decimal(p["totals"]["total"]["amount"]),
                          line_count=len(p["lines"]), placed_at=placed))
    for line in p["lines"]:
        session.add(OrderLineFact(order_number=p["order_number"], company_id=p["company_id"],
                                  part_number=line["part_number"],
                                  manufacturer=line.get("manufacturer"),
                                  category=line.get("category"), quantity=line["quantity"],
                                  line_total=Decimal(line["line_total"]["amount"]),
                                  placed_at=placed))


def record_status(session, p):
    fact = session.scalar(select(OrderFact).where(OrderFact.order_number == p["order_number"]))
    if fact is None:
        # the status change overtook order_placed: fail so the event is retried later
        raise LookupError(f"order {p['order_number']} not recorded yet")
    fact.status = p["status"]


def check_range(date_from, date_to):
    if date_from and date_to and date_to < date_from:
        raise Invalid("`to` is before `from`", code="invalid_range",
                      errors={"to": ["must be after from"]})
    if date_from and date_to and date_to - date_from > MAX_RANGE:
        raise Invalid("at most 3 years between from and to", code="range_too_long",
                      errors={"to": ["at most 3 years after from"]})


def orders_summary(session, company_id, date_from=None, date_to=None, status=None):
    check_range(date_from, date_to)
    query = select(OrderFact).where(OrderFact.company_id == company_id)
    if date_from:
        query = query.where(OrderFact.placed_at >= date_from)
    if date_to:
        query = query.where(OrderFact.placed_at < date_to + timedelta(days=1))
    if status:
        query = query.where(OrderFact.status == status)
    groups = {}
    for fact in session.scalars(query):
        key = (fact.placed_at.strftime("%Y-%m"), fact.status, fact.currency)
        count, total = groups.get(key, (0, Decimal(0)))
        groups[key] = (count + 1, total + Decimal(fact.total))
    return [{"month": m, "status": s, "orders": c, "total": f"{t:.2f}", "currency": cur}
            for (m, s, cur), (c, t) in sorted(groups.items())]


def run_report(session, company_id, key, date_from=None, date_to=None, **filters):
    if key not in REPORTS:
        raise NotFound("no such report", code="report_not_found")
    return {"key": key, "columns": REPORTS[key]["columns"],
            "rows": orders_summary(session, company_id, date_from, date_to, filters.get("status"))}


def to_csv(report):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=report["columns"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(report["rows"])
    return out.getvalue()
