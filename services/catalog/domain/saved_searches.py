"""Saved searches: a user's own named search criteria (a catalog rule may name one)."""
from sqlalchemy import select

from services.catalog.domain.rights import require_company
from services.catalog.models import SavedSearch
from services.common.errors import NotFound
from services.common.paging import keyset_page


def _own_saved_search(session, ctx, saved_search_id) -> SavedSearch:
    saved = session.scalar(select(SavedSearch).where(
        SavedSearch.id == saved_search_id, SavedSearch.company_id == ctx.company_id,
        SavedSearch.user_id == ctx.user_id))
    if saved is None or ctx.company_id is None:
        raise NotFound("no such saved search", code="saved_search_not_found")
    return saved


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
    return saved


def delete_saved_search(session, ctx, saved_search_id):
    session.delete(_own_saved_search(session, ctx, saved_search_id))
    session.flush()
