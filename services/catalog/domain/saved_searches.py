"""Saved searches: a user's own named search criteria (a catalog rule may name one)."""
from sqlalchemy import select

from services.catalog.domain.changes import company_catalog_changed, removed
from services.common.access import require_company
from services.common.tenancy import company_row
from services.catalog.models import SavedSearch
from services.common.paging import keyset_page


def _own_saved_search(session, ctx, saved_search_id) -> SavedSearch:
    return company_row(session, ctx, SavedSearch, saved_search_id, "saved_search",
                       SavedSearch.user_id == ctx.user_id)


def list_saved_searches(session, ctx, limit=50, cursor=None) -> dict:
    require_company(ctx)
    rows, next_cursor = keyset_page(session, select(SavedSearch).where(
        SavedSearch.company_id == ctx.company_id, SavedSearch.user_id == ctx.user_id),
        SavedSearch.id, limit, cursor, descending=True)
    return {"items": rows, "next_cursor": next_cursor}


def get_saved_search(session, ctx, saved_search_id) -> SavedSearch:
    return _own_saved_search(session, ctx, saved_search_id)


def create_saved_search(session, ctx, data: dict) -> SavedSearch:
    require_company(ctx)
    saved = SavedSearch(company_id=ctx.company_id, user_id=ctx.user_id, name=data["name"],
                        criteria={k: v for k, v in (data.get("criteria") or {}).items() if v is not None})
    session.add(saved)
    session.flush()
    company_catalog_changed(session, ctx.company_id, "saved_searches")  # a rule may name it
    return saved


def delete_saved_search(session, ctx, saved_search_id):
    removed(session, _own_saved_search(session, ctx, saved_search_id), "saved_searches")
