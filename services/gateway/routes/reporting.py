"""Gateway endpoints of the reporting service."""
from marshmallow import Schema, fields, validate

from services.gateway.api import Reply, endpoint
from services.gateway.rights import AUTHENTICATED


class ReportQuery(Schema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    status = fields.String(load_default=None)


class ReportList(Schema):
    items = fields.List(fields.Dict())


class ReportOut(Schema):
    key = fields.String()
    columns = fields.List(fields.String())
    rows = fields.List(fields.Dict())


class ReportingRoutes:
    @endpoint("GET", "/reports", right=AUTHENTICATED, response=ReportList(), tags=("reports",))
    def list_reports(self, call):
        """The standard reports and the caller's saved custom ones."""
        return self.reporting_rpc.list_reports(call.ctx)

    @endpoint("GET", "/reports/<key>", right=AUTHENTICATED, query=ReportQuery(),
              response=ReportOut(), tags=("reports",), errors=(404,))
    def run_report(self, call, key):
        """Run a report as JSON or CSV (`format=csv`); at most 3 years between from and to."""
        q = call.query
        dates = [q["date_from"].isoformat() if q["date_from"] else None,
                 q["date_to"].isoformat() if q["date_to"] else None]
        filters = {"status": q["status"]} if q["status"] else {}
        result = self.reporting_rpc.run_report(call.ctx, key, *dates, filters=filters,
                                               fmt=q["format"])
        if q["format"] == "csv":
            return Reply(result["csv"], content_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="{result["filename"]}"'})
        return result
