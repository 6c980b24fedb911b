"""Custom catalogs: named sets of products a company's catalog admin builds from rules (see
visibility.py for what a catalog allows) and grants to users."""
from sqlalchemy import select

from services.catalog.domain.changes import company_catalog_changed, removed
from services.common.access import require_role
from services.catalog.domain.search import search
from services.catalog.domain.visibility import company_catalog
from services.catalog.models import Contract, CustomCatalog, SavedSearch
from services.common.clock import utcnow
from services.common.errors import Conflict, Invalid
from services.common.paging import keyset_page


def _check_rule_references(session, ctx, rules):
    """Contracts and saved searches named by rules must be the caller's company's."""
    errors = {}
    for i, rule in enumerate(rules):
        if rule["type"] == "contract":
            ids = set(rule["contract_ids"])
            mine = set(session.scalars(select(Contract.id).where(
                Contract.company_id == ctx.company_id, Contract.id.in_(ids))))
            if ids - mine:
                errors[str(i)] = {"contract_ids": [f"No such contract: {', '.join(map(str, sorted(ids - mine)))}."]}
        elif rule["type"] == "saved_search":
            saved = session.scalar(select(SavedSearch.id).where(
                SavedSearch.company_id == ctx.company_id, SavedSearch.id == rule["saved_search_id"]))
            if saved is None:
                errors[str(i)] = {"saved_search_id": ["No such saved search."]}
    if errors:
        raise Invalid("some catalog rules are not valid", code="invalid_catalog_rules",
                      errors={"rules": errors})


def _unique_catalog_name(session, ctx, name, except_id=None):
    query = select(CustomCatalog.id).where(CustomCatalog.company_id == ctx.company_id,
                                           CustomCatalog.name == name)
    if except_id is not None:
        query = query.where(CustomCatalog.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict("a catalog with this name exists", code="catalog_name_taken",
                       errors={"name": ["Already used by another catalog."]})


def list_catalogs(session, ctx, limit=50, cursor=None) -> dict:
    require_role(ctx, "catalog_admin")
    rows, next_cursor = keyset_page(session, select(CustomCatalog).where(
        CustomCatalog.company_id == ctx.company_id), CustomCatalog.id, limit, cursor,
        descending=True)
    return {"items": rows, "next_cursor": next_cursor}


def get_catalog(session, ctx, catalog_id) -> CustomCatalog:
    require_role(ctx, "catalog_admin")
    return company_catalog(session, ctx, catalog_id)


def create_catalog(session, ctx, data: dict) -> CustomCatalog:
    """`data` as loaded by schemas.CatalogIn: {name, rules, include, exclude}."""
    require_role(ctx, "catalog_admin")
    _unique_catalog_name(session, ctx, data["name"])
    _check_rule_references(session, ctx, data.get("rules") or [])
    catalog = CustomCatalog(company_id=ctx.company_id, name=data["name"],
                            rules=data.get("rules") or [], include=data.get("include") or {},
                            exclude=data.get("exclude") or {})
    session.add(catalog)
    session.flush()
    company_catalog_changed(session, ctx.company_id, "custom_catalogs")
    return catalog


def update_catalog(session, ctx, catalog_id, changes: dict) -> CustomCatalog:
    require_role(ctx, "catalog_admin")
    catalog = company_catalog(session, ctx, catalog_id)
    if "name" in changes:
        _unique_catalog_name(session, ctx, changes["name"], except_id=catalog.id)
        catalog.name = changes["name"]
    if "rules" in changes:
        _check_rule_references(session, ctx, changes["rules"] or [])
        catalog.rules = changes["rules"] or []
    for key in ("include", "exclude"):
        if key in changes:
            setattr(catalog, key, changes[key] or {})
    catalog.updated_at = utcnow()
    session.flush()
    company_catalog_changed(session, ctx.company_id, "custom_catalogs")
    return catalog


def delete_catalog(session, ctx, catalog_id):
    require_role(ctx, "catalog_admin")
    removed(session, company_catalog(session, ctx, catalog_id), "custom_catalogs")


def catalog_products(session, ctx, currency, catalog_id, limit=50, cursor=None, today=None) -> dict:
    """The products a catalog allows, priced. A catalog admin sees all of them; anyone else
    sees them within their own grants."""
    company_catalog(session, ctx, catalog_id)
    return search(session, ctx, currency, {"catalog_id": catalog_id}, limit, cursor, today,
                  with_facets=False, grants=not ctx.has_role("catalog_admin"))
