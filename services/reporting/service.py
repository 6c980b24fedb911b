"""The reporting service: entrypoints only; the rules are in domain/.

Every event it listens to goes through `facts.record_event`, which applies it to the read
model and logs it for `procura reporting rebuild`. The gateway checks rights before calling;
the domain checks the report's own right again (order or payment reports).
"""
import logging

from services.common.background import BackgroundLoop
from services.common.base import ServiceBase
from services.common.clock import utcnow
from services.common.entrypoints import handler_for, rpc
from services.common.schemas import load
from services.reporting import schemas
from services.reporting.domain import assets, facts, licenses, reports, schedules
from services.reporting.domain.engine import CSV_PAGE, parse_day
from services.reporting.models import Base

log = logging.getLogger(__name__)


def report_args(query):
    """(from, to, filters) from a report query as the gateway sends it."""
    query = dict(query or {})
    date_from, date_to = parse_day(query.pop("from", None)), parse_day(query.pop("to", None))
    filters = {k: v for k, v in query.items() if k in schemas.ReportFilters._declared_fields
               and v not in (None, "")}
    return date_from, date_to, filters


class ScheduleClock(BackgroundLoop):
    """Sends the scheduled reports that are due (every REPORT_SCHEDULE_INTERVAL seconds)."""
    switch_env = "REPORT_SCHEDULES"
    interval_env = "REPORT_SCHEDULE_INTERVAL"
    interval = 60.0

    def cycle(self):
        with self.database.session_factory() as session:
            sent = schedules.run_due(session, utcnow())
            session.commit()
        if sent:
            log.info("scheduled reports sent: %s", sent)
            self.wake_relay()
        return False


def records_fact(source, event_type):
    """The handler `on_<event_type>`, which applies the event to the read model."""
    return handler_for(source, event_type, lambda self, event: facts.record_event(self.db, event))


class ReportingService(ServiceBase, name="reporting", models=Base):
    clock = ScheduleClock()

    # ---- the read model: every fact comes from an event
    on_order_placed = records_fact("orders", "order_placed")
    on_order_status_changed = records_fact("orders", "order_status_changed")
    on_order_shipped = records_fact("orders", "order_shipped")
    on_order_delivered = records_fact("orders", "order_delivered")
    on_invoice_issued = records_fact("orders", "invoice_issued")
    on_approval_requested = records_fact("approvals", "approval_requested")
    on_order_approved = records_fact("approvals", "order_approved")
    on_order_rejected = records_fact("approvals", "order_rejected")

    # ---- reports
    @rpc
    def list_reports(self, ctx):
        return {"items": reports.list_reports(self.db, ctx)}

    @rpc
    def run_report(self, ctx, key, query=None, limit=50, cursor=None):
        date_from, date_to, filters = report_args(query)
        return reports.run(self.db, ctx, key, utcnow().date(), date_from, date_to, filters,
                           cursor, min(int(limit), 200))

    @rpc
    def report_csv_page(self, ctx, key, query=None, cursor=None):
        date_from, date_to, filters = report_args(query)
        return reports.csv_page(self.db, ctx, key, utcnow().date(), date_from, date_to,
                                filters, cursor)

    @rpc
    def save_custom_report(self, ctx, body):
        body = load(schemas.CustomReportIn(), body)
        return reports.save_custom(self.db, ctx, body["name"], body["columns"],
                                   body["group_by"], body["filters"], body["source"])

    @rpc
    def delete_custom_report(self, ctx, key):
        reports.delete_custom(self.db, ctx, key)

    # ---- schedules
    @rpc
    def list_schedules(self, ctx):
        return schedules.list_schedules(self.db, ctx)

    @rpc
    def create_schedule(self, ctx, body):
        return schedules.create(self.db, ctx, load(schemas.ScheduleIn(), body), utcnow())

    @rpc
    def delete_schedule(self, ctx, schedule_id):
        schedules.delete(self.db, ctx, int(schedule_id))

    # ---- assets
    @rpc
    def list_assets(self, ctx, query=None):
        q = load(schemas.AssetQuery(), query)
        return assets.search(self.db, ctx, q["q"], {k: q[k] for k in assets.FILTERS},
                             q["limit"], q["cursor"])

    @rpc
    def assets_csv_page(self, ctx, query=None, cursor=None):
        q = load(schemas.AssetQuery(), query)
        return assets.csv_page(self.db, ctx, q["q"], {k: q[k] for k in assets.FILTERS},
                               cursor, CSV_PAGE)

    @rpc
    def get_asset(self, ctx, asset_id):
        return assets.get(self.db, ctx, int(asset_id))

    @rpc
    def create_asset(self, ctx, body):
        return assets.create(self.db, ctx, load(schemas.AssetIn(), body))

    @rpc
    def update_asset(self, ctx, asset_id, body):
        return assets.update(self.db, ctx, int(asset_id),
                             load(schemas.AssetIn(), body, partial=True))

    # ---- licenses
    @rpc
    def list_licenses(self, ctx, limit=50, cursor=None):
        return licenses.licenses(self.db, ctx, utcnow().date(), min(int(limit), 200), cursor)

    @rpc
    def licenses_csv_page(self, ctx, cursor=None):
        return licenses.csv_page(self.db, ctx, utcnow().date(), cursor)
