"""Keyset pages by id, the one way every service pages a list (`?limit=&cursor=`).

The cursor is the id of the last row of the previous page, as a string; anything else is a
422 `invalid_cursor`, never a 500.
"""
from services.common.errors import Invalid

MAX_LIMIT = 200
# ids are 64-bit signed integers in every database
MAX_ID = 2 ** 63 - 1


def cursor_id(cursor) -> int | None:
    if cursor in (None, ""):
        return None
    try:
        value = int(str(cursor))
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= MAX_ID:
        raise Invalid("this cursor is not valid", code="invalid_cursor",
                      errors={"cursor": ["Not a cursor from a previous page."]})
    return value


def keyset_page(session, query, id_column, limit=50, cursor=None, descending=False,
                row_id=lambda row: row.id):
    """(rows, next_cursor) of a select ordered by `id_column`; `descending` lists the
    newest first. `row_id` reads the id of a row when rows are tuples."""
    limit = max(1, min(int(limit or 50), MAX_LIMIT))
    after = cursor_id(cursor)
    if after is not None:
        query = query.where(id_column < after if descending else id_column > after)
    order = id_column.desc() if descending else id_column
    result = session.execute(query.order_by(order).limit(limit + 1))
    rows = result.all() if len(query.column_descriptions) > 1 else result.scalars().all()
    next_cursor = str(row_id(rows[limit - 1])) if len(rows) > limit else None
    return rows[:limit], next_cursor
