"""marshmallow pieces every service's schemas use."""
from marshmallow import Schema, ValidationError, fields, validate


class MoneySchema(Schema):
    amount = fields.Decimal(required=True, as_string=True, places=2)
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


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


def page(items_schema, items, next_cursor):
    return {"items": items_schema.dump(items), "next_cursor": next_cursor}


__all__ = ["MoneySchema", "PageQuery", "UtcDateTime", "page", "load", "ValidationError", "fields", "validate"]


def load(schema, data, partial=False):
    """Validate an RPC argument at the service edge; bad values are a 422 with the fields."""
    from services.common.errors import Invalid
    try:
        return schema.load(data or {}, partial=partial)
    except ValidationError as exc:
        raise Invalid("some values are not valid", errors=exc.messages)
