"""Catalog's payloads: what the service loads from its callers (RPC arguments, the HTTP
bodies and queries the gateway passes on) and the replies it dumps from the domain's
objects; the gateway documents its endpoints with them."""
from decimal import Decimal, InvalidOperation

from marshmallow import (Schema, ValidationError, fields, pre_load, validate, validates_schema)

from services.catalog.models import AVAILABILITY, LANGUAGES
from services.common.schemas import MoneySchema, PageQuery, UtcDateTime

SORTS = ("relevance", "price_asc", "price_desc")
PRICE_SOURCES = ("contract", "epp", "list")
RULE_TYPES = ("standards", "contract", "part_numbers", "mfg_part_numbers", "purchase_history",
              "saved_search")
FAVORITE_KINDS = ("product", "comparison", "bundle", "link")
MAX_RULE_LIST = 5000

PartNumber = lambda **kw: fields.String(validate=validate.Length(min=1, max=64), **kw)  # noqa: E731


class Text(fields.String):
    """A string with surrounding whitespace removed."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Amount(fields.String):
    """A non-negative amount with at most two decimals, kept as its canonical string
    ("1500" -> "1500.00") so that it crosses RPC and is saved with a search as JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError("An amount, like 1500 or 1499.99.")
        if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 \
                or amount >= 10 ** 12:
            raise ValidationError("An amount from 0, with at most two decimals.")
        return str(amount.quantize(Decimal("0.01")))


# ------------------------------------------------------------------ products

class SearchCriteria(Schema):
    """What a search asks for; also what a saved search keeps."""
    q = Text(load_default=None, validate=validate.Length(max=200))
    manufacturer = Text(load_default=None, validate=validate.Length(max=80))
    category = Text(load_default=None, validate=validate.Length(max=80))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    availability = fields.String(load_default=None, validate=validate.OneOf(AVAILABILITY))
    on_contract = fields.Boolean(load_default=None)
    price_min = Amount(load_default=None, metadata={
        "description": "the caller's unit price at least this (company's currency)"})
    price_max = Amount(load_default=None, metadata={
        "description": "the caller's unit price at most this (company's currency)"})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))

    @validates_schema
    def price_range(self, data, **kwargs):
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise ValidationError({"price_max": ["Must be at least price_min."]})


class ProductSearchQuery(SearchCriteria, PageQuery):
    catalog_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ProductOut(Schema):
    """A domain.pricing.PricedProduct: a product at the caller's price."""
    part_number = fields.String()
    mfg_part_number = fields.String()
    manufacturer = fields.String()
    category = fields.String()
    name = fields.String()
    description = fields.String()
    language = fields.String()
    availability = fields.String(metadata={"enum": list(AVAILABILITY)})
    list_price = fields.Nested(MoneySchema)
    price = fields.Nested(MoneySchema, allow_none=True, attribute="quote.unit_price",
                          metadata={"description": "the caller's price; null when the product has "
                                                   "no price in the company's currency"})
    price_source = fields.String(allow_none=True, attribute="quote.price_source",
                                 metadata={"enum": list(PRICE_SOURCES)})
    on_contract = fields.Boolean(attribute="quote.on_contract")
    orderable = fields.Boolean(attribute="quote.orderable")
    subscription_term = fields.String(allow_none=True, metadata={
        "enum": ["monthly", "yearly", None],
        "description": "sold as an auto-renewing subscription with this term"})


class TierPrice(Schema):
    contract_id = fields.Integer()
    contract_name = fields.String()
    tier = fields.String(allow_none=True, metadata={"description": "null: the contract's base price"})
    min_quantity = fields.Integer(metadata={"description": "the price applies from this quantity"})
    price = fields.Nested(MoneySchema)
    ends_on = fields.Date(metadata={"description": "the contract's last day"})
    current = fields.Boolean(metadata={"description": "the caller's price (one unit) is this one"})


class ProductDetailOut(ProductOut):
    tier_prices = fields.List(fields.Nested(TierPrice), metadata={
        "description": "the company's contract prices of this product that apply today, in "
                       "its currency, by quantity then price; a cart line gets the lowest "
                       "whose min_quantity its quantity reaches"})


class FacetValue(Schema):
    value = fields.String()
    count = fields.Integer()


class PriceRange(Schema):
    min = fields.Nested(MoneySchema, metadata={"description": "the lowest price in the range"})
    max = fields.Nested(MoneySchema, allow_none=True, metadata={
        "description": "the highest price in the range (a cent below the next range's min); "
                       "null for the last, open range"})
    count = fields.Integer()


class Facets(Schema):
    """Matches per value of each filter, counted as if that filter were not set (the
    others are), so that the other choices stay visible."""
    manufacturer = fields.List(fields.Nested(FacetValue), metadata={
        "description": "the 30 with most matches"})
    category = fields.List(fields.Nested(FacetValue), metadata={
        "description": "the 30 with most matches"})
    availability = fields.List(fields.Nested(FacetValue), metadata={
        "description": "in_stock, limited, backorder, discontinued (those with matches)"})
    price = fields.List(fields.Nested(PriceRange), metadata={
        "description": "ranges of the caller's unit price that hold matches, cheapest first "
                       "(edges 0, 50, 100, 250, 500, 1000, 2500, 5000, 10000); give a "
                       "range's min and max as price_min and price_max to keep it"})


class ProductPage(Schema):
    items = fields.List(fields.Nested(ProductOut))
    next_cursor = fields.String(allow_none=True)
    total = fields.Integer(metadata={"description": "matches in all pages"})
    facets = fields.Nested(Facets)


class LookupBody(Schema):
    part_numbers = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                               required=True, validate=validate.Length(min=1, max=500))


class LookupResult(Schema):
    part_number = fields.String()
    status = fields.String(metadata={"enum": ["found", "not_found"]})
    product = fields.Nested(ProductOut, allow_none=True)


class LookupReply(Schema):
    results = fields.List(fields.Nested(LookupResult))


class PriceLine(Schema):
    part_number = fields.String(required=True)
    quantity = fields.Raw(load_default=1)


class PriceLinesArgs(Schema):
    lines = fields.List(fields.Nested(PriceLine), required=True, validate=validate.Length(max=1000))


class ProcurementItem(ProductOut):
    """A product as an e-procurement system takes it (cif.py)."""
    unspsc = fields.String(metadata={"description": "UNSPSC code (8 digits)"})
    unit_of_measure = fields.String(metadata={"description": "UN/CEFACT code, EA"})


class ProcurementItems(Schema):
    items = fields.List(fields.Nested(ProcurementItem))


class PurchaseHistoryItem(Schema):
    part_number = fields.String()
    last_ordered_at = UtcDateTime()
    quantity = fields.Integer()
    orders = fields.Integer()


class PurchaseHistoryPage(Schema):
    items = fields.List(fields.Nested(PurchaseHistoryItem))
    next_cursor = fields.String(allow_none=True)


# ------------------------------------------------------------------ contracts

class TierIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=60))
    min_quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))


class ContractPriceIn(Schema):
    part_number = PartNumber(required=True)
    price = fields.Nested(MoneySchema, required=True)
    tier = Text(load_default=None, validate=validate.Length(min=1, max=60))

    @validates_schema
    def positive(self, data, **kwargs):
        if data["price"]["amount"] < 0:
            raise ValidationError({"price": {"amount": ["Must not be negative."]}})


class ContractIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    tiers = fields.List(fields.Nested(TierIn), load_default=list, validate=validate.Length(max=50))
    prices = fields.List(fields.Nested(ContractPriceIn), load_default=list,
                         validate=validate.Length(max=50000))

    @validates_schema
    def dates(self, data, **kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError({"ends_on": ["Must be on or after starts_on."]})


class TierOut(Schema):
    name = fields.String()
    min_quantity = fields.Integer()


class ContractOut(Schema):
    """A domain.contracts.ContractOnDay."""
    id = fields.Integer()
    company_id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String(metadata={"enum": ["scheduled", "active", "expired"]})
    tiers = fields.List(fields.Nested(TierOut))
    price_count = fields.Integer()


class ContractPage(Schema):
    items = fields.List(fields.Nested(ContractOut))
    next_cursor = fields.String(allow_none=True)


# ------------------------------------------------------------------ import

class RejectedLine(Schema):
    line = fields.Integer()
    reason = fields.String()


class ImportReport(Schema):
    format = fields.String(metadata={"enum": ["csv", "cif", "rows"]})
    imported = fields.Integer()
    updated = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedLine),
                           metadata={"description": "the first 1000 rejected lines"})
    rejected_count = fields.Integer()
    warnings = fields.List(fields.String())


# ------------------------------------------------------------------ custom catalogs

class Rule(fields.Field):
    """One catalog rule: `{type, ...}` (a bare type name is accepted for rules without
    fields). `list` is accepted for part_numbers and mfg_part_numbers."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, dict):
            raise ValidationError("A rule is an object with a type.")
        kind = value.get("type")
        if kind not in RULE_TYPES:
            raise ValidationError(f"type must be one of {', '.join(RULE_TYPES)}.")
        if kind == "contract":
            ids = value.get("contract_ids")
            if (not isinstance(ids, list) or not ids or len(ids) > 100
                    or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)):
                raise ValidationError({"contract_ids": ["Give 1 to 100 contract ids."]})
            return {"type": kind, "contract_ids": sorted(set(ids))}
        if kind in ("part_numbers", "mfg_part_numbers"):
            items = value.get(kind, value.get("list"))
            if (not isinstance(items, list) or not items or len(items) > MAX_RULE_LIST
                    or not all(isinstance(i, str) and 0 < len(i.strip()) <= 64 for i in items)):
                raise ValidationError({kind: [f"Give 1 to {MAX_RULE_LIST} part numbers."]})
            items = [i.strip().upper() if kind == "part_numbers" else i.strip() for i in items]
            return {"type": kind, kind: sorted(set(items))}
        if kind == "saved_search":
            sid = value.get("saved_search_id")
            if not isinstance(sid, int) or isinstance(sid, bool) or sid < 1:
                raise ValidationError({"saved_search_id": ["A saved search id."]})
            return {"type": kind, "saved_search_id": sid}
        return {"type": kind}

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class CatalogFilter(Schema):
    manufacturers = fields.List(Text(validate=validate.Length(min=1, max=80)),
                                validate=validate.Length(max=500))
    categories = fields.List(Text(validate=validate.Length(min=1, max=80)),
                             validate=validate.Length(max=500))
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)))
    off_contract = fields.Boolean(metadata={"description": "products not on an active contract"})


class CatalogIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    rules = fields.List(Rule(), load_default=list, validate=validate.Length(max=20))
    include = fields.Nested(CatalogFilter, load_default=dict)
    exclude = fields.Nested(CatalogFilter, load_default=dict)


class CatalogPatch(Schema):
    name = Text(validate=validate.Length(min=1, max=120))
    rules = fields.List(Rule(), validate=validate.Length(max=20))
    include = fields.Nested(CatalogFilter)
    exclude = fields.Nested(CatalogFilter)


class CatalogOut(Schema):
    id = fields.Integer()
    name = fields.String()
    rules = fields.List(fields.Dict())
    include = fields.Dict()
    exclude = fields.Dict()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class CatalogPage(Schema):
    items = fields.List(fields.Nested(CatalogOut))
    next_cursor = fields.String(allow_none=True)


# ------------------------------------------------------------------ saved searches

class SavedSearchIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    criteria = fields.Nested(SearchCriteria, required=True)


class SavedSearchOut(Schema):
    id = fields.Integer()
    name = fields.String()
    criteria = fields.Dict()
    created_at = UtcDateTime()


class SavedSearchPage(Schema):
    items = fields.List(fields.Nested(SavedSearchOut))
    next_cursor = fields.String(allow_none=True)


# ------------------------------------------------------------------ favorites

class BundleLine(Schema):
    part_number = PartNumber(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))


class FavoriteIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(FAVORITE_KINDS))
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    part_number = PartNumber(load_default=None)
    part_numbers = fields.List(PartNumber(), load_default=None)
    lines = fields.List(fields.Nested(BundleLine), load_default=None,
                        validate=validate.Length(min=1, max=100))
    url = fields.Url(load_default=None, schemes={"http", "https"}, require_tld=False)

    @validates_schema
    def fields_of_kind(self, data, **kwargs):
        needs = {"product": "part_number", "comparison": "part_numbers", "bundle": "lines",
                 "link": "url"}
        kind = data.get("kind")
        if kind in needs and not data.get(needs[kind]):
            raise ValidationError({needs[kind]: [f"Required for a {kind}."]})
        if kind == "comparison":
            parts = [p.strip().upper() for p in data["part_numbers"]]
            if not 2 <= len(parts) <= 4 or len(set(parts)) != len(parts):
                raise ValidationError({"part_numbers": ["Give 2 to 4 different part numbers."]})


class FavoriteOut(Schema):
    """A Favorite; the kind's own fields are in its `data`."""
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    part_number = fields.String(attribute="data.part_number")
    part_numbers = fields.List(fields.String(), attribute="data.part_numbers")
    lines = fields.List(fields.Nested(BundleLine), attribute="data.lines")
    url = fields.String(attribute="data.url")
    created_at = UtcDateTime()


class FavoritePage(Schema):
    items = fields.List(fields.Nested(FavoriteOut))
    next_cursor = fields.String(allow_none=True)


# ------------------------------------------------------------------ employee purchase programs

class EppIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    active = fields.Boolean(load_default=True)
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None)
    all_users = fields.Boolean(load_default=False)
    user_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                           load_default=list, validate=validate.Length(max=100000))

    @pre_load
    def no_nulls(self, data, **kwargs):
        if isinstance(data, dict) and data.get("user_ids") is None:
            data = {k: v for k, v in data.items() if k != "user_ids"}
        return data


class EppOut(Schema):
    """A domain.epp.EppFor."""
    id = fields.Integer()
    company_id = fields.Integer()
    name = fields.String()
    description = fields.String()
    active = fields.Boolean()
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    all_users = fields.Boolean()
    member = fields.Boolean(metadata={"description": "whether the caller buys at EPP prices"})


class EppStaffOut(EppOut):
    user_ids = fields.List(fields.Integer(), metadata={
        "description": "the members when the program is not open to all users"})
