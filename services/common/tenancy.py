"""A company's own rows in a table that holds every company's."""
from sqlalchemy import select

from services.common.errors import NotFound
from services.common.paging import MAX_ID


def company_row(session, ctx, model, row_id, what, *where, code=None):
    """The caller's company's row of `model` (and `where`), else NotFound with the code
    `code` (default `{what}_not_found`): another company's row is as absent as one that does
    not exist."""
    try:
        in_range = 0 < int(row_id) <= MAX_ID
    except (TypeError, ValueError):
        in_range = False
    # an id no 64-bit column holds is no row (and a statement with it would not run)
    row = session.scalar(select(model).where(model.id == row_id,
                                             model.company_id == ctx.company_id,
                                             *where)) if in_range else None
    if row is None or ctx.company_id is None:
        raise NotFound(f"no such {what.replace('_', ' ')}", code=code or f"{what}_not_found")
    return row
