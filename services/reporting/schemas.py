"""Reporting's payloads: HTTP bodies and queries (the gateway validates with them) and RPC
arguments (the service validates them again)."""
from marshmallow import Schema, fields, pre_load, validate

from services.common.paging import MAX_ID
from services.common.schemas import PageQuery, page_of

FORMAT = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


def _text(size, **kw):
    return fields.String(validate=validate.Length(max=size), allow_none=True, **kw)


class ReportFilters(Schema):
    buyer = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    billing_account = _text(64, load_default=None)
    manufacturer = _text(120, load_default=None)
    category = _text(120, load_default=None)
    status = _text(32, load_default=None)


class ReportRunQuery(ReportFilters, PageQuery):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None, metadata={
        "description": "on or after `from`, at most 3 years after it"})
    format = FORMAT


class ReportInfo(Schema):
    key = fields.String()
    title = fields.Dict(metadata={"description": "{en, fr}"})
    columns = fields.List(fields.String())
    group_by = fields.List(fields.String())
    filters = fields.List(fields.String())
    right = fields.String()
    custom = fields.Boolean()


class ReportList(Schema):
    items = fields.List(fields.Nested(ReportInfo))


class ReportPage(Schema):
    key = fields.String()
    title = fields.String()
    columns = fields.List(fields.String())
    items = fields.List(fields.Dict())
    next_cursor = fields.String(allow_none=True)


class CustomReportIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    source = fields.String(load_default="lines")
    columns = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=30))
    filters = fields.Dict(keys=fields.String(), load_default=dict)
    group_by = fields.List(fields.String(), load_default=list, validate=validate.Length(max=10))


class Recipient(Schema):
    email = fields.Email(required=True)
    locale = fields.String(load_default=None, validate=validate.OneOf(["en", "fr"]),
                           allow_none=True)


class ScheduleIn(Schema):
    report_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    params = fields.Dict(keys=fields.String(), load_default=dict)
    frequency = fields.String(required=True, validate=validate.OneOf(["monthly", "quarterly"]))
    recipients = fields.List(fields.Nested(Recipient), required=True,
                             validate=validate.Length(min=1, max=50))

    @pre_load
    def plain_addresses(self, data, **kwargs):
        # ["a@b.test"] is as good as [{"email": "a@b.test"}]
        if isinstance(data, dict) and isinstance(data.get("recipients"), list):
            data = dict(data, recipients=[{"email": r} if isinstance(r, str) else r
                                          for r in data["recipients"]])
        return data


class ScheduleOut(Schema):
    id = fields.Integer()
    report_key = fields.String()
    params = fields.Dict()
    frequency = fields.String()
    recipients = fields.List(fields.Dict())
    next_run_at = fields.String()
    last_run_at = fields.String(allow_none=True)


class ScheduleList(Schema):
    items = fields.List(fields.Nested(ScheduleOut))


class AssetIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    manufacturer = _text(120)
    part_number = _text(64)
    category = _text(120)
    serial_number = _text(120)
    quantity = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    location = _text(200)
    purchased_on = fields.Date(allow_none=True)
    notes = _text(4000)


class AssetOut(AssetIn):
    id = fields.Integer()
    origin = fields.String()
    order_number = fields.String(allow_none=True)
    # reporting replies with ISO dates already
    purchased_on = fields.String(allow_none=True)
    delivered_on = fields.String(allow_none=True)


AssetList = page_of(AssetOut, "AssetList")


class AssetQuery(PageQuery):
    q = _text(200, load_default=None)
    origin = fields.String(load_default=None, validate=validate.OneOf(["purchased", "manual"]))
    manufacturer = _text(120, load_default=None)
    category = _text(120, load_default=None)
    location = _text(200, load_default=None)
    format = FORMAT


class LicenseQuery(PageQuery):
    format = FORMAT


class LicenseList(Schema):
    items = fields.List(fields.Dict())
    totals = fields.List(fields.Dict())
    next_cursor = fields.String(allow_none=True)
