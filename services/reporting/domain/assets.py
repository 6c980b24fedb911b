"""The asset inventory: every delivered order line becomes an asset by itself; assets bought
elsewhere are entered by hand. Both can be edited (serial number, location, notes...);
a rebuild of the read model keeps them, since users' edits live here."""
from sqlalchemy import func, or_, select

from services.common.csvout import CsvWriter
from services.common.clock import utcnow
from services.common.errors import Invalid, NotFound
from services.common.paging import cursor_id
from services.reporting.models import Asset

COLUMNS = ("id", "origin", "name", "manufacturer", "part_number", "category", "serial_number",
           "quantity", "location", "purchased_on", "delivered_on", "order_number", "notes")
TEXT_COLUMNS = [i for i, c in enumerate(COLUMNS) if c not in ("id", "quantity")]
EDITABLE = ("name", "manufacturer", "part_number", "category", "serial_number", "quantity",
            "location", "purchased_on", "notes")
FILTERS = ("origin", "manufacturer", "category", "location")


def record_delivery(session, order, lines, delivered_at, delivered_lines=None):
    """Assets of a delivery: one per order line, for what this delivery carried
    (`delivered_lines` [{part_number, quantity}], or the whole order when the event does not
    say). A later partial delivery of the same line adds to its asset's quantity; the caller
    applies each delivery event once."""
    known = {a.line_no: a for a in session.scalars(select(Asset).where(
        Asset.order_number == order.order_number))}
    if delivered_lines is None:
        carried = {line.line_no: line.quantity for line in lines}
    else:
        remaining = {}
        for item in delivered_lines:
            key = str(item.get("part_number", "")).lower()
            remaining[key] = remaining.get(key, 0) + int(item.get("quantity") or 0)
        carried = {}
        for line in lines:  # a part ordered on two lines fills them in order
            key = line.part_number.lower()
            take = min(line.quantity, remaining.get(key, 0))
            if take:
                carried[line.line_no] = take
                remaining[key] -= take
    for line in lines:
        quantity = carried.get(line.line_no)
        if not quantity:
            continue
        asset = known.get(line.line_no)
        if asset is not None:
            if delivered_lines is not None:
                asset.quantity = min(line.quantity, asset.quantity + quantity)
            continue
        session.add(Asset(company_id=order.company_id, origin="purchased",
                          order_number=order.order_number, line_no=line.line_no,
                          name=line.name or line.part_number, manufacturer=line.manufacturer,
                          part_number=line.part_number, category=line.category,
                          quantity=quantity, location=order.ship_to,
                          purchased_on=order.placed_at.date(),
                          delivered_on=delivered_at.date()))


def view(asset):
    item = {c: getattr(asset, c) for c in COLUMNS}
    for key in ("purchased_on", "delivered_on"):
        item[key] = item[key] and item[key].isoformat()
    return item


def _get(session, ctx, asset_id):
    asset = session.get(Asset, asset_id)
    if asset is None or asset.company_id != ctx.company_id:
        raise NotFound("no such asset", code="asset_not_found")
    return asset


def get(session, ctx, asset_id):
    return view(_get(session, ctx, asset_id))


def create(session, ctx, data):
    asset = Asset(company_id=ctx.company_id, origin="manual",
                  **{k: data.get(k) for k in EDITABLE if data.get(k) is not None})
    if not asset.quantity:
        asset.quantity = 1
    session.add(asset)
    session.flush()
    return view(asset)


def update(session, ctx, asset_id, data):
    asset = _get(session, ctx, asset_id)
    for key in EDITABLE:
        if key in data:
            if key in ("name", "quantity") and data[key] is None:
                raise Invalid(f"{key} cannot be empty", errors={key: ["required"]})
            setattr(asset, key, data[key])
    asset.updated_at = utcnow()
    session.flush()
    return view(asset)


def _query(ctx, q=None, filters=None):
    query = select(Asset).where(Asset.company_id == ctx.company_id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(*[func.lower(getattr(Asset, c)).like(like) for c in (
            "name", "manufacturer", "part_number", "serial_number", "location", "notes",
            "order_number")]))
    for key, value in (filters or {}).items():
        if value not in (None, ""):
            query = query.where(getattr(Asset, key) == value)
    return query


def search(session, ctx, q=None, filters=None, limit=50, cursor=None):
    """A page of the inventory, by id: {items, next_cursor}."""
    query = _query(ctx, q, filters).order_by(Asset.id)
    if cursor:
        query = query.where(Asset.id > cursor_id(cursor))
    rows = session.scalars(query.limit(limit + 1)).all()
    items = [view(a) for a in rows[:limit]]
    return {"items": items, "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}


def csv_page(session, ctx, q=None, filters=None, cursor=None, limit=20000):
    """A page of the inventory as CSV (header on the first): {csv, next_cursor, filename}."""
    page = search(session, ctx, q, filters, limit, cursor)
    writer = CsvWriter(COLUMNS, TEXT_COLUMNS)
    text = (writer.header() if cursor is None else "") + writer.rows(
        [[item[c] for c in COLUMNS] for item in page["items"]])
    return {"csv": text, "next_cursor": page["next_cursor"], "filename": "assets.csv"}
