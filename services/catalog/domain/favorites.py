"""Company favorites (the company's standards): products, comparisons of 2 to 4 products,
bundles and links, kept by the e-procurement admin for every user of the company."""
from sqlalchemy import select

from services.catalog.domain.changes import company_catalog_changed, removed
from services.catalog.domain.products import existing_part_numbers
from services.common.access import require_company, require_role
from services.catalog.domain.visibility import normalise_part_number
from services.common.tenancy import company_row
from services.catalog.models import Favorite
from services.common.errors import Invalid
from services.common.paging import keyset_page

FAVORITE_KINDS = ("product", "comparison", "bundle", "link")


def favorite_data(session, data: dict) -> dict:
    """The kind's own fields, checked: a product (part_number), a comparison of 2 to 4
    different products (part_numbers), a bundle (lines of part_number and quantity), or a
    link (an http or https url). Part numbers must name products."""
    kind = data.get("kind")
    if kind not in FAVORITE_KINDS:
        raise Invalid("unknown kind", errors={"kind": [f"One of {', '.join(FAVORITE_KINDS)}."]})
    if kind == "product":
        if not data.get("part_number"):
            raise Invalid("a product favorite names a part number", errors={"part_number": ["Required."]})
        out = {"part_number": normalise_part_number(data["part_number"])}
        parts, field = [out["part_number"]], "part_number"
    elif kind == "comparison":
        parts = [normalise_part_number(p) for p in data.get("part_numbers") or []]
        if not 2 <= len(parts) <= 4 or len(set(parts)) != len(parts):
            raise Invalid("a comparison has 2 to 4 different products",
                          errors={"part_numbers": ["Give 2 to 4 different part numbers."]})
        out, field = {"part_numbers": parts}, "part_numbers"
    elif kind == "bundle":
        lines = data.get("lines") or []
        if not lines:
            raise Invalid("a bundle has lines", errors={"lines": ["Give at least one line."]})
        out = {"lines": [{"part_number": normalise_part_number(l["part_number"]),
                          "quantity": int(l["quantity"])} for l in lines]}
        if any(l["quantity"] < 1 for l in out["lines"]):
            raise Invalid("quantities are at least 1", errors={"lines": ["Quantities are at least 1."]})
        parts, field = [l["part_number"] for l in out["lines"]], "lines"
    else:
        url = (data.get("url") or "").strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or " " in url:
            raise Invalid("a link favorite has an http or https url", errors={"url": ["An http(s) URL."]})
        return {"url": url}
    missing = sorted(set(parts) - existing_part_numbers(session, parts))
    if missing:
        raise Invalid("unknown part numbers", code="unknown_part_numbers",
                      errors={field: [f"No product has part number {p}." for p in missing]})
    return out


def list_favorites(session, ctx, limit=50, cursor=None) -> dict:
    require_company(ctx)
    rows, next_cursor = keyset_page(
        session, select(Favorite).where(Favorite.company_id == ctx.company_id), Favorite.id,
        limit, cursor, descending=True)
    return {"items": rows, "next_cursor": next_cursor}


def get_favorite(session, ctx, favorite_id) -> Favorite:
    return company_row(session, ctx, Favorite, favorite_id, "favorite")


def create_favorite(session, ctx, data: dict) -> Favorite:
    require_role(ctx, "eprocurement_admin")
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("a favorite has a title", errors={"title": ["Required."]})
    favorite = Favorite(company_id=ctx.company_id, kind=data["kind"], title=title[:200],
                        data=favorite_data(session, data), created_by=ctx.user_id)
    session.add(favorite)
    session.flush()
    company_catalog_changed(session, ctx.company_id, "favorites")  # the standards rule
    return favorite


def delete_favorite(session, ctx, favorite_id):
    require_role(ctx, "eprocurement_admin")
    removed(session, get_favorite(session, ctx, favorite_id), "favorites")
