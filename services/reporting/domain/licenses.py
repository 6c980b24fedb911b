"""Software licenses: the software lines bought in the last 3 years, with the date each
renews, and totals per publisher and product. They are the declared reports `licenses` and
`license_totals` over order lines whose category is software."""
from services.common.errors import Forbidden
from services.reporting.domain import reports
from services.reporting.domain import engine
from services.reporting.domain.engine import json_value, window


def may_see(ctx):
    return "slt_admin" in (ctx.roles or []) or "slt_user" in (ctx.features or [])


def queries(session, ctx, today):
    if not may_see(ctx):
        raise Forbidden("licenses need the SLT admin role or slt_user", code="forbidden")
    start, end = window(None, today, today)
    return [reports.query_for(session, ctx.company_id, ctx.user_id, key, start, end)[1]
            for key in ("licenses", "license_totals")]


def licenses(session, ctx, today, limit=50, cursor=None):
    """{items, totals, next_cursor}: a page of license lines, and every total."""
    lines, totals = queries(session, ctx, today)
    rows, next_cursor = lines.page(session, cursor, limit)

    def as_dicts(query, rows):
        return [{c: json_value(v) for c, v in zip(query.columns, row)} for row in rows]
    return {"items": as_dicts(lines, rows), "next_cursor": next_cursor,
            "totals": as_dicts(totals, totals.stream(session))}


def csv_page(session, ctx, today, cursor=None, limit=None):
    lines, _ = queries(session, ctx, today)
    return engine.csv_page(lines, session, cursor, limit, "licenses.csv")
