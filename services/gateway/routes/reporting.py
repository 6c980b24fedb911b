"""Gateway endpoints of the reporting service: reports, custom reports, schedules, assets,
software licenses.

CSV is streamed: the first page is fetched before answering (so that a refused or invalid
request still gets its problem+json), then each further page is fetched from reporting as
the client reads, so neither process holds a whole export.
"""
from services.common.schemas import load
from services.gateway.api import Reply, endpoint, forward
from services.gateway.openapi import CSV, also_answers
from services.gateway.rights import AUTHENTICATED, any_of, feature, role
from services.reporting import schemas as s

# the gateway lets either reporting right in; reporting checks the report's own right
REPORTS = any_of(feature("order_reports"), feature("payment_reports"))
LICENSES = any_of(role("slt_admin"), feature("slt_user"))
CSV_TYPE = "text/csv; charset=utf-8"


def stream_csv(fetch):
    """`fetch(cursor)` → {csv, next_cursor, filename}; a streamed CSV reply."""
    first = fetch(None)

    def chunks():
        yield first["csv"].encode("utf-8")
        cursor = first["next_cursor"]
        while cursor:
            page = fetch(cursor)
            yield page["csv"].encode("utf-8")
            cursor = page["next_cursor"]
    return Reply(chunks(), content_type=CSV_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{first["filename"]}"'})


def report_params(query):
    """The report's window and filters as reporting takes them (JSON-safe)."""
    params = {k: query[k] for k in s.ReportFilters._declared_fields if query.get(k) is not None}
    for name, key in (("from", "date_from"), ("to", "date_to")):
        if query[key] is not None:
            params[name] = query[key].isoformat()
    return params


class ReportingRoutes:
    list_reports = forward("GET", "/reports", "reporting.list_reports", right=REPORTS,
                           response=s.ReportList(), tags=("reports",),
                           summary=("The standard reports and the caller's saved custom ones "
                                    "(those the caller may run)."))

    @endpoint("GET", "/reports/<key>", right=REPORTS, query=s.ReportRunQuery(),
              response=s.ReportPage(), tags=("reports",), errors=(404, 422))
    def run_report(self, call, key):
        """Run a report as a JSON page or streamed CSV (`format=csv`); at most 3 years between
        `from` and `to` (default: the 3 years up to today)."""
        # reporting does not load this query itself yet: read here, once
        q = load(s.ReportRunQuery(), call.query)
        params = report_params(q)
        if q["format"] == "csv":
            return stream_csv(lambda cursor: self.reporting_rpc.report_csv_page(
                call.ctx, key, params, cursor))
        return self.reporting_rpc.run_report(call.ctx, key, params, q["limit"], q["cursor"])

    save_custom_report = forward("POST", "/reports/custom", "reporting.save_custom_report",
                                 right=REPORTS, body=s.CustomReportIn(), response=s.ReportInfo(),
                                 status=201, tags=("reports",), errors=(422,), passing=("body",),
                                 summary=("Save a custom report: columns, filters and grouping "
                                          "chosen from one source's facts (`source`: lines by "
                                          "default; GET /reports shows what the standard ones "
                                          "use)."))

    delete_custom_report = forward("DELETE", "/reports/<key>", "reporting.delete_custom_report",
                                   right=REPORTS, status=204, tags=("reports",), errors=(404,),
                                   summary=("Delete one of the caller's custom reports (and its "
                                            "schedules)."))

    list_schedules = forward("GET", "/report-schedules", "reporting.list_schedules", right=REPORTS,
                             response=s.ScheduleList(), tags=("reports",),
                             summary="The company's scheduled reports.")

    create_schedule = forward("POST", "/report-schedules", "reporting.create_schedule",
                              right=REPORTS, body=s.ScheduleIn(), response=s.ScheduleOut(),
                              status=201, tags=("reports",), errors=(404, 422), passing=("body",),
                              summary=("Send a report as CSV to recipients at the start of every "
                                       "month or quarter, for the period that just ended; "
                                       "`params` holds the report's filters."))

    delete_schedule = forward("DELETE", "/report-schedules/<int:schedule_id>",
                              "reporting.delete_schedule", right=REPORTS, status=204,
                              tags=("reports",), errors=(404,), summary="Stop a scheduled report.")

    @endpoint("GET", "/assets", right=AUTHENTICATED, query=s.AssetQuery(),
              response=s.AssetList(), tags=("assets",))
    def list_assets(self, call):
        """The asset inventory: `q` searches names, part and serial numbers, locations and
        notes; filters by origin, manufacturer, category, location; `format=csv` exports."""
        if call.wants_csv():
            return stream_csv(lambda cursor: self.reporting_rpc.assets_csv_page(
                call.ctx, call.query, cursor))
        return self.reporting_rpc.list_assets(call.ctx, call.query)

    create_asset = forward("POST", "/assets", "reporting.create_asset", right=AUTHENTICATED,
                           body=s.AssetIn(), response=s.AssetOut(), status=201, tags=("assets",),
                           errors=(422,), passing=("body",),
                           summary=("Enter an asset bought elsewhere (delivered orders add theirs "
                                    "by themselves)."))

    get_asset = forward("GET", "/assets/<int:asset_id>", "reporting.get_asset",
                        right=AUTHENTICATED, response=s.AssetOut(), tags=("assets",),
                        errors=(404,), summary="One asset.")

    update_asset = forward("PATCH", "/assets/<int:asset_id>", "reporting.update_asset",
                           right=AUTHENTICATED, body=s.AssetIn(partial=True),
                           response=s.AssetOut(), tags=("assets",), errors=(404, 422),
                           passing=("body",),
                           summary="Edit an asset: serial number, location, notes...")

    @endpoint("GET", "/licenses", right=LICENSES, query=s.LicenseQuery(),
              response=s.LicenseList(), tags=("licenses",))
    def list_licenses(self, call):
        """Software bought in the last 3 years, with renewal dates, and totals per publisher
        and product; `format=csv` exports the lines."""
        # reporting does not load this query itself yet: read here, once
        q = load(s.LicenseQuery(), call.query)
        if q["format"] == "csv":
            return stream_csv(lambda cursor: self.reporting_rpc.licenses_csv_page(
                call.ctx, cursor))
        return self.reporting_rpc.list_licenses(call.ctx, q["limit"], q["cursor"])


for _export in (ReportingRoutes.run_report, ReportingRoutes.list_assets,
                ReportingRoutes.list_licenses):
    also_answers(_export, ok=CSV)  # format=csv
