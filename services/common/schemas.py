"""marshmallow pieces every service's schemas use."""
import re

from marshmallow import Schema, ValidationError, fields, validate

from services.common.paging import MAX_ID

# what a Numeric(14, 2) column keeps, written as API.md says: a string, at most two decimals
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


class Amount(fields.Decimal):
    """An amount of money as a decimal string ("1234.5" in, "1234.50" out); a JSON number,
    an exponent or a third decimal is refused, not rounded."""

    default_error_messages = {"invalid": "An amount as a string, like \"1499.99\"."}

    def __init__(self, **kwargs):
        metadata = {"pattern": AMOUNT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, places=2, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(AMOUNT_PATTERN, value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """A string with surrounding whitespace removed: one of spaces alone is empty."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Boolean(fields.Boolean):
    """true or false: a JSON boolean, or `true` / `false` in a query string; not 1, 0, "yes"
    or "on", which marshmallow's Boolean also takes."""

    default_error_messages = {"invalid": "true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise self.make_error("invalid")


def Id(**kwargs):  # noqa: N802 (a field, named like one)
    """A reference to a row by its id: a JSON integer from 1 that a 64-bit column holds."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def one_of_kinds(discriminator, kinds, needs, only=False):
    """The JSON Schema (`oneOf`) of an object whose fields depend on its kind: `needs` maps a
    kind to {field: what it must be} for the fields that kind requires; with `only`, a kind
    takes no field another kind needs. For a schema's `json_schema` (services/gateway/
    openapi.py), beside the validator that checks the same."""
    kind_fields = sorted({f for fields_ in needs.values() for f in fields_})
    variants = []
    for kind in kinds:
        own = needs.get(kind, {})
        variant = {"properties": {discriminator: {"enum": [kind]}, **own}}
        if own:
            variant["required"] = sorted(own)
        others = [f for f in kind_fields if f not in own]
        if only and others:
            variant["not"] = {"anyOf": [{"required": [f]} for f in others]}
        variants.append(variant)
    return {"oneOf": variants}


class MoneySchema(Schema):
    amount = Amount(required=True)
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


class Totals(Schema):
    """A cart's or an order's totals."""
    subtotal = fields.Nested(MoneySchema)
    total = fields.Nested(MoneySchema)


class Person(Schema):
    """A user as services name recipients, approvers and buyers to each other (identity's
    `get_people`)."""
    user_id = fields.Integer()
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)


class CompanyRowOut(Schema):
    """A company's own row in a reply: its id and its company's (tables.CompanyRow)."""
    id = fields.Integer()
    company_id = fields.Integer()


class UtcDateTime(fields.Field):
    """A naive UTC datetime as ISO 8601 with `Z`; a date as ISO 8601."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if hasattr(value, "hour"):
            return value.isoformat() + "Z"
        return value.isoformat()


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


def page_of(items, name):
    """The schema `name` of one page of a list of `items` (a schema class)."""
    return type(name, (Schema,), {"items": fields.List(fields.Nested(items)),
                                  "next_cursor": fields.String(allow_none=True)})


__all__ = ["Amount", "Boolean", "CompanyRowOut", "Id", "MoneySchema", "Person", "Text", "one_of_kinds", "PageQuery", "UtcDateTime", "dump_page", "load", "load_args", "page_args"]


def load(schema, data, partial=False):
    """Validate an RPC argument at the service edge; bad values are a 422 with the fields."""
    from services.common.errors import Invalid
    try:
        return schema.load(data or {}, partial=partial)
    except ValidationError as exc:
        raise Invalid("some values are not valid", errors=exc.messages)


def load_args(schema, **values):
    """RPC arguments validated together through `schema`; None stands for an argument the
    caller did not give (its default applies)."""
    return load(schema, {k: v for k, v in values.items() if v is not None})


def page_args(limit, cursor):
    """A list RPC's `limit` and `cursor`, validated: {"limit": ..., "cursor": ...}."""
    return load_args(PageQuery(), limit=limit, cursor=cursor)


def dump_page(schema, rows_and_cursor):
    """One page of a list, as the domain returns it (rows, next cursor), dumped through the
    page schema `schema` (made by `page_of`)."""
    rows, next_cursor = rows_and_cursor
    return schema.dump({"items": rows, "next_cursor": next_cursor})
