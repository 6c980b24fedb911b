"""Scheduled reports: a report sent as CSV to a list of recipients at the start of every month
or quarter, covering the period that just ended.

Each schedule keeps the moment it is next due. `run_due(session, now)` sends every schedule
due at `now` once, for the latest period that ended, and moves it to the first due moment
after `now`: a service that was down for three months sends one report when it is back, not
three. The clock is the caller's `now`, so tests move time as they please.
"""
from datetime import datetime, timedelta

from sqlalchemy import select

from services.common.errors import Forbidden, NotFound
from services.common.outbox import emit
from services.reporting.domain import engine, reports
from services.reporting.models import ReportSchedule

MONTHS = {"monthly": 1, "quarterly": 3}


def add_months(moment, months):
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0,
                          second=0, microsecond=0)


def period_start(moment, frequency):
    """The start (00:00 UTC on the 1st) of the month or quarter holding `moment`."""
    month = moment.month if frequency == "monthly" else (moment.month - 1) // 3 * 3 + 1
    return datetime(moment.year, month, 1)


def next_due(moment, frequency):
    """The first due moment strictly after `moment`."""
    return add_months(period_start(moment, frequency), MONTHS[frequency])


def view(row):
    return {"id": row.id, "report_key": row.report_key, "params": row.params,
            "frequency": row.frequency, "recipients": row.recipients,
            "next_run_at": row.next_run_at.isoformat() + "Z",
            "last_run_at": row.last_run_at and row.last_run_at.isoformat() + "Z"}


def create(session, ctx, data, now):
    report, _ = reports.prepare(session, ctx, data["report_key"], now.date(),
                                filters=data.get("params") or {})  # refuses what would fail later
    recipients = [{"email": r["email"], "locale": r.get("locale") or ctx.locale or "en"}
                  for r in data["recipients"]]
    row = ReportSchedule(company_id=ctx.company_id, user_id=ctx.user_id,
                         features=list(ctx.features or []), report_key=report.key,
                         params=data.get("params") or {}, frequency=data["frequency"],
                         recipients=recipients, locale=ctx.locale or "en",
                         next_run_at=next_due(now, data["frequency"]))
    session.add(row)
    session.flush()
    return view(row)


def list_schedules(session, ctx):
    rows = session.scalars(select(ReportSchedule).where(
        ReportSchedule.company_id == ctx.company_id).order_by(ReportSchedule.id))
    return {"items": [view(r) for r in rows]}


def delete(session, ctx, schedule_id):
    row = session.get(ReportSchedule, schedule_id)
    if row is None or row.company_id != ctx.company_id:
        raise NotFound("no such schedule", code="schedule_not_found")
    session.delete(row)


def run_due(session, now, batch=50):
    """Send every schedule due at `now` (caller commits); returns the ids sent."""
    due = session.scalars(select(ReportSchedule).where(ReportSchedule.next_run_at <= now)
                          .order_by(ReportSchedule.id).limit(batch)
                          .with_for_update(skip_locked=True)).all()
    sent = []
    for row in due:
        # the latest period that ended at or before now, once, however many were missed
        end = period_start(now, row.frequency)
        start = add_months(end, -MONTHS[row.frequency])
        try:
            send(session, row, start, end)
            sent.append(row.id)
        except (NotFound, Forbidden):
            # the custom report was deleted or the right withdrawn: nothing to send
            pass
        row.last_run_at = now
        row.next_run_at = next_due(now, row.frequency)
    session.flush()
    return sent


def send(session, row, start, end):
    report, query = reports.query_for(session, row.company_id, row.user_id, row.report_key,
                                      start, end, row.params)
    if reports.SOURCES[report.source].right not in row.features:
        raise Forbidden("the schedule's owner cannot run this report")
    last_day = (end - timedelta(days=1)).date()
    text = engine.csv_document(query, session)
    title = report.title.get(row.locale, report.title["en"])
    filename = f"{report.key}_{start.date().isoformat()}_{last_day.isoformat()}.csv"
    emit(session, "reporting", "report_ready", {
        "report_key": report.key, "title": title, "recipients": row.recipients,
        "filename": filename, "csv": text, "schedule_id": row.id, "company_id": row.company_id,
        "period": {"from": start.date().isoformat(), "to": last_day.isoformat()}})
