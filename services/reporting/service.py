"""The reporting service: entrypoints only; the rules are in domain.py."""
from datetime import date, datetime

from services.common.base import ServiceBase
from services.common.db import Database
from services.common.entrypoints import event_handler, rpc
from services.reporting import domain
from services.reporting.models import Base


def _day(value):
    return datetime.combine(date.fromisoformat(value), datetime.min.time()) if value else None


class ReportingService(ServiceBase):
    name = "reporting"
    db = Database("reporting", Base)

    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        domain.record_order_placed(self.db, event["payload"])

    @event_handler("orders", "order_status_changed")
    def on_order_status_changed(self, event):
        domain.record_status(self.db, event["payload"])

    @rpc
    def list_reports(self, ctx):
        return {"items": [{"key": k, "custom": False, **v} for k, v in domain.REPORTS.items()]}

    @rpc
    def run_report(self, ctx, key, date_from=None, date_to=None, filters=None, fmt="json"):
        report = domain.run_report(self.db, ctx.company_id, key, _day(date_from), _day(date_to),
                                   **(filters or {}))
        if fmt == "csv":
            return {"csv": domain.to_csv(report), "filename": f"{key}.csv"}
        return report
