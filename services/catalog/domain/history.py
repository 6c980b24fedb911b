"""Purchase history: what each company has ordered, kept from orders' order_placed events (a
read model; catalog never reads orders' tables)."""
from datetime import datetime, timezone

from sqlalchemy import select

from services.catalog.domain.changes import company_catalog_changed
from services.common.access import require_company
from services.catalog.domain.search import decode_cursor, encode_cursor
from services.catalog.domain.visibility import normalise_part_number
from services.catalog.models import PurchaseHistory


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def record_order(session, payload: dict):
    """Add an order's lines (orders.order_placed) to its company's purchase history."""
    company_id = payload["company_id"]
    placed_at = _parse_time(payload.get("placed_at"))
    quantities = {}
    for line in payload.get("lines") or []:
        part = normalise_part_number(line.get("part_number"))
        if part:
            quantities[part] = quantities.get(part, 0) + int(line.get("quantity") or 0)
    first_ordered = False
    for part, quantity in sorted(quantities.items()):
        row = session.get(PurchaseHistory, (company_id, part))
        if row is None:
            session.add(PurchaseHistory(company_id=company_id, part_number=part,
                                        last_ordered_at=placed_at, quantity=quantity, orders=1))
            first_ordered = True
        else:
            row.last_ordered_at = max(row.last_ordered_at, placed_at)
            row.quantity += quantity
            row.orders += 1
    session.flush()
    if first_ordered:  # a catalog's purchase_history rule now allows it
        company_catalog_changed(session, company_id, "purchase_history")


def purchase_history(session, ctx, limit=50, cursor=None) -> dict:
    """What the caller's company has ordered, most recent first."""
    require_company(ctx)
    offset = decode_cursor(cursor)
    rows = session.scalars(select(PurchaseHistory).where(PurchaseHistory.company_id == ctx.company_id)
                           .order_by(PurchaseHistory.last_ordered_at.desc(), PurchaseHistory.part_number)
                           .limit(limit + 1).offset(offset)).all()
    return {"items": rows[:limit],
            "next_cursor": encode_cursor(offset + limit) if len(rows) > limit else None}
