"""Catalog's payloads: what the service loads from its callers (RPC arguments, the HTTP
bodies and queries the gateway passes on) and the replies it dumps from the domain's
objects; the gateway documents its endpoints with them."""
import re
from decimal import Decimal, InvalidOperation

from marshmallow import (Schema, ValidationError, fields, pre_load, validate, validates_schema)

from services.catalog.models import AVAILABILITY, LANGUAGES
from services.common.paging import MAX_ID
from services.common.schemas import (page_of, AMOUNT_PATTERN, Boolean, CompanyRowOut, MoneySchema,
                                     PageQuery, Text, UtcDateTime, one_of_kinds)

SORTS = ("relevance", "price_asc", "price_desc")
PRICE_SOURCES = ("contract", "epp", "list")
RULE_TYPES = ("standards", "contract", "part_numbers", "mfg_part_numbers", "purchase_history",
              "saved_search")
FAVORITE_KINDS = ("product", "comparison", "bundle", "link")
MAX_RULE_LIST = 5000

PartNumber = lambda **kw: fields.String(validate=validate.Length(min=1, max=64), **kw)  # noqa: E731


class Amount(fields.String):
    """A non-negative amount with at most two decimals, given as a string like money
    amounts (AMOUNT_PATTERN), kept as its canonical string ("1500" -> "1500.00") so that it
    crosses RPC and is saved with a search as JSON."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": AMOUNT_PATTERN, **kwargs.pop("metadata", {})},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = value if isinstance(value, str) and re.fullmatch(AMOUNT_PATTERN, value) else ""
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
    on_contract = Boolean(load_default=None)
    price_min = Amount(load_default=None, metadata={
        "description": "the caller's unit price at least this (company's currency)"})
    price_max = Amount(load_default=None, metadata={
        "description": "the caller's unit price at most this (company's currency), not "
                       "below price_min"})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))

    @validates_schema
    def price_range(self, data, **kwargs):
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and Decimal(low) > Decimal(high):
            raise ValidationError({"price_max": ["Must be at least price_min."]})


class ProductSearchQuery(SearchCriteria, PageQuery):
    catalog_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


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


PurchaseHistoryPage = page_of(PurchaseHistoryItem, "PurchaseHistoryPage")


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
    ends_on = fields.Date(required=True, metadata={"description": "on or after starts_on"})
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


class ContractOut(CompanyRowOut):
    """A domain.contracts.ContractOnDay."""
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String(metadata={"enum": ["scheduled", "active", "expired"]})
    tiers = fields.List(fields.Nested(TierOut))
    price_count = fields.Integer()


ContractPage = page_of(ContractOut, "ContractPage")


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

RULE_LIST = {"type": "array", "minItems": 1, "maxItems": MAX_RULE_LIST,
             "items": {"type": "string", "pattern": r"\S", "maxLength": 64}}


class Rule(fields.Field):
    """One catalog rule: `{type, ...}` (a bare type name is accepted for rules without
    fields). `list` is accepted for part_numbers and mfg_part_numbers."""

    json_schema = {"oneOf": [
        {"type": "string", "enum": ["standards", "purchase_history"]},
        {"type": "object", "required": ["type"],
         "properties": {"type": {"enum": ["standards", "purchase_history"]}}},
        {"type": "object", "required": ["type", "contract_ids"], "properties": {
            "type": {"enum": ["contract"]},
            "contract_ids": {"type": "array", "minItems": 1, "maxItems": 100,
                             "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}}},
        *({"type": "object", "required": ["type", kind],
           "properties": {"type": {"enum": [kind]}, kind: RULE_LIST}}
          for kind in ("part_numbers", "mfg_part_numbers")),
        {"type": "object", "required": ["type", "saved_search_id"], "properties": {
            "type": {"enum": ["saved_search"]},
            "saved_search_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}},
    ]}

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
                    or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID
                               for i in ids)):
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
            if not isinstance(sid, int) or isinstance(sid, bool) or not 0 < sid <= MAX_ID:
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
    off_contract = Boolean(metadata={"description": "products not on an active contract"})


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


CatalogPage = page_of(CatalogOut, "CatalogPage")


# ------------------------------------------------------------------ saved searches

class SavedSearchIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    criteria = fields.Nested(SearchCriteria, required=True)


class SavedSearchOut(Schema):
    id = fields.Integer()
    name = fields.String()
    criteria = fields.Dict()
    created_at = UtcDateTime()


SavedSearchPage = page_of(SavedSearchOut, "SavedSearchPage")


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

    NEEDS = {"product": "part_number", "comparison": "part_numbers", "bundle": "lines",
             "link": "url"}
    json_schema = one_of_kinds("kind", FAVORITE_KINDS, {
        "product": {"part_number": {"type": "string"}},
        "comparison": {"part_numbers": {"type": "array", "minItems": 2, "maxItems": 4,
                                        "uniqueItems": True}},
        "bundle": {"lines": {"type": "array"}}, "link": {"url": {"type": "string"}}})

    @validates_schema
    def fields_of_kind(self, data, **kwargs):
        needs = self.NEEDS
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


FavoritePage = page_of(FavoriteOut, "FavoritePage")


# ------------------------------------------------------------------ employee purchase programs

class EppIn(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    active = Boolean(load_default=True)
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None, metadata={"description": "on or after starts_on"})
    all_users = Boolean(load_default=False)
    # null is no one (no_nulls)
    user_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                           load_default=list, allow_none=True,
                           validate=validate.Length(max=100000))

    @pre_load
    def no_nulls(self, data, **kwargs):
        if isinstance(data, dict) and data.get("user_ids") is None:
            data = {k: v for k, v in data.items() if k != "user_ids"}
        return data


class EppOut(CompanyRowOut):
    """A domain.epp.EppFor."""
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
