"""What can be reported on (sources over the fact tables), the standard reports declared over
them, and the custom reports users save. Every report runs on `engine.ReportQuery`.

Spend counts every order that was not rejected or cancelled: what the company committed to.
"""
from sqlalchemy import case, delete, distinct, func, or_, select

from services.common.errors import Forbidden, Invalid, NotFound
from services.reporting.domain.engine import (DATE, DATETIME, HOURS, INT, MONEY, RENEWAL, TEXT,
                                              Field, Report, ReportQuery, Source, describe,
                                              json_value, window)
from services.reporting.domain import engine
from services.reporting.domain.rollups import NOT_SPENT, SPEND
from services.reporting.models import (ApprovalFact, CustomReport, InvoiceFact, OrderFact,
                                       OrderLineFact, ReportSchedule, ShipmentFact)

ORDER_REPORTS, PAYMENT_REPORTS = "order_reports", "payment_reports"
OPEN_STATUSES = ("pending_approval", "approved", "submitted", "processing", "shipped")
# words that mark software in the category names of the catalogs we sell (en, fr)
SOFTWARE_WORDS = ("software", "logiciel", "licen")


def text(column):
    return Field(TEXT, column)


def count(expr=None, partial=None):
    return Field(INT, agg=func.count(expr) if expr is not None else func.count(),
                 partial=partial)


def total(kind, column):
    # a sum is summed again from the rollup column of the same name
    return Field(kind, column, func.sum(column), partial=column.key)


L = OrderLineFact
LINES = Source(
    "lines", L, "placed_at", ORDER_REPORTS,
    fields={"order_number": text(L.order_number), "placed_on": Field(DATE, L.placed_at),
            "month": text(L.placed_month), "quarter": text(L.placed_quarter),
            "buyer": text(L.buyer_name), "buyer_email": text(L.buyer_email),
            "billing_account": text(L.billing_account), "ship_to": text(L.ship_to),
            "status": text(L.status), "part_number": text(L.part_number),
            "mfg_part_number": text(L.mfg_part_number), "product": text(L.name),
            "manufacturer": text(L.manufacturer), "category": text(L.category),
            "price_source": text(L.price_source),
            "contract": text(case((L.on_contract.is_(True), "contract"), else_="off_contract")),
            "currency": text(L.currency), "quantity": total(INT, L.quantity),
            "unit_price": Field(MONEY, L.unit_price_cents), "spend": total(MONEY, L.spend_cents),
            "renewal_on": Field(RENEWAL, L.placed_at),
            "lines": count(partial="lines"),
            "orders": Field(INT, agg=func.count(distinct(L.order_number)), partial="orders",
                            per_grain=True)},
    filters={"buyer": (L.buyer_id, int), "billing_account": (L.billing_account, str),
             "manufacturer": (L.manufacturer, str), "category": (L.category, str),
             "status": (L.status, str)},
    conditions={"spent": L.status.notin_(NOT_SPENT),
                "software": or_(*[func.lower(L.category).like(f"%{w}%") for w in SOFTWARE_WORDS])},
    rollup=SPEND)

O = OrderFact
_ORDER_FIELDS = {
    "order_number": text(O.order_number), "placed_on": Field(DATE, O.placed_at),
    "month": text(O.placed_month), "quarter": text(O.placed_quarter),
    "buyer": text(O.buyer_name), "billing_account": text(O.billing_account),
    "ship_to": text(O.ship_to), "status": text(O.status), "currency": text(O.currency),
    "lines": total(INT, O.line_count), "total": total(MONEY, O.total_cents), "orders": count()}
_ORDER_FILTERS = {"buyer": (O.buyer_id, int), "billing_account": (O.billing_account, str),
                  "status": (O.status, str)}
ORDERS = Source("orders", O, "placed_at", ORDER_REPORTS, fields=_ORDER_FIELDS,
                filters=_ORDER_FILTERS, conditions={"open": O.status.in_(OPEN_STATUSES)})
# the same orders seen by finance: how they were paid (a card by brand and last four only)
PAYMENTS = Source(
    "payments", O, "placed_at", PAYMENT_REPORTS,
    fields={**_ORDER_FIELDS, "payment_method": text(O.payment_method),
            "po_number": text(O.po_number), "card_brand": text(O.card_brand),
            "card_last4": text(O.card_last4)},
    filters=_ORDER_FILTERS,
    conditions={"card": O.payment_method == "card", "spent": O.status.notin_(NOT_SPENT)})

S = ShipmentFact
SHIPMENTS = Source(
    "shipments", S, "shipped_at", ORDER_REPORTS,
    fields={"order_number": text(S.order_number), "buyer": text(S.buyer_name),
            "ship_to": text(S.ship_to), "carrier": text(S.carrier),
            "tracking_number": text(S.tracking_number), "tracking_url": text(S.tracking_url),
            "shipped_on": Field(DATE, S.shipped_at), "delivered_on": Field(DATE, S.delivered_at),
            "delivery_note": text(S.delivery_note), "shipments": count(),
            "delivered": count(S.delivered_at)},
    filters={"buyer": (S.buyer_id, int)})

I = InvoiceFact
INVOICES = Source(
    "invoices", I, "issued_at", PAYMENT_REPORTS,
    fields={"invoice_number": text(I.invoice_number), "order_number": text(I.order_number),
            "issued_on": Field(DATE, I.issued_at), "month": text(I.issued_month),
            "buyer": text(I.buyer_name), "billing_account": text(I.billing_account),
            "currency": text(I.currency), "total": total(MONEY, I.total_cents),
            "invoices": count()},
    filters={"buyer": (I.buyer_id, int), "billing_account": (I.billing_account, str)})

A = ApprovalFact
APPROVALS = Source(
    "approvals", A, "requested_at", ORDER_REPORTS,
    fields={"approval_id": text(A.approval_id), "order_number": text(A.order_number),
            "buyer": text(A.buyer_name), "rule": text(A.rule), "currency": text(A.currency),
            "total": total(MONEY, A.total_cents), "month": text(A.requested_month),
            "requested_at": Field(DATETIME, A.requested_at),
            "decided_at": Field(DATETIME, A.decided_at), "status": text(A.decision),
            "decided_by": text(A.decided_by), "comment": text(A.comment),
            "hours_to_decide": Field(HOURS, A.decide_seconds, func.avg(A.decide_seconds)),
            "requests": count(),
            "approved": Field(INT, agg=func.sum(case((A.decision == "approved", 1), else_=0))),
            "rejected": Field(INT, agg=func.sum(case((A.decision == "rejected", 1), else_=0))),
            "pending": Field(INT, agg=func.sum(case((A.decision == "pending", 1), else_=0)))},
    filters={"buyer": (A.buyer_id, int), "status": (A.decision, str)})

SOURCES = {s.name: s for s in (LINES, ORDERS, PAYMENTS, SHIPMENTS, INVOICES, APPROVALS)}


def _spend_by(key, en, fr, *dims, order=("-spend",)):
    return Report(key, {"en": en, "fr": fr}, "lines",
                  (*dims, "orders", "lines", "quantity", "spend", "currency"),
                  group_by=(*dims, "currency"), order_by=order, where=("spent",))


def _top_products(key, en, fr, measure):
    return Report(key, {"en": en, "fr": fr}, "lines",
                  ("part_number", "product", "manufacturer", "quantity", "spend", "currency"),
                  group_by=("part_number", "product", "manufacturer", "currency"),
                  order_by=(f"-{measure}",), where=("spent",))


STANDARD = [
    Report("orders_summary", {"en": "Orders summary", "fr": "Sommaire des commandes"}, "orders",
           ("month", "status", "orders", "total", "currency"),
           group_by=("month", "status", "currency")),
    Report("order_lines", {"en": "Order lines", "fr": "Lignes de commande"}, "lines",
           ("placed_on", "order_number", "buyer", "status", "part_number", "mfg_part_number",
            "product", "manufacturer", "category", "quantity", "unit_price", "spend",
            "contract", "currency")),
    _spend_by("spend_by_month", "Spend by month", "Dépenses par mois", "month", order=()),
    _spend_by("spend_by_quarter", "Spend by quarter", "Dépenses par trimestre", "quarter",
              order=()),
    _spend_by("spend_by_manufacturer", "Spend by manufacturer", "Dépenses par fabricant",
              "manufacturer"),
    _spend_by("spend_by_category", "Spend by category", "Dépenses par catégorie", "category"),
    _spend_by("spend_by_buyer", "Spend by buyer", "Dépenses par acheteur", "buyer",
              "buyer_email"),
    _spend_by("spend_by_billing_account", "Spend by billing account",
              "Dépenses par compte de facturation", "billing_account"),
    _spend_by("spend_by_shipping_location", "Spend by shipping location",
              "Dépenses par lieu de livraison", "ship_to"),
    _top_products("top_products_by_quantity", "Top products by quantity",
                  "Produits les plus commandés (quantité)", "quantity"),
    _top_products("top_products_by_spend", "Top products by spend",
                  "Produits les plus commandés (montant)", "spend"),
    _spend_by("contract_spend", "Contract vs off-contract spend",
              "Dépenses sous contrat et hors contrat", "contract", order=()),
    Report("open_orders", {"en": "Open orders", "fr": "Commandes en cours"}, "orders",
           ("placed_on", "order_number", "buyer", "status", "lines", "total", "currency",
            "ship_to"), where=("open",)),
    Report("shipments", {"en": "Shipments and tracking", "fr": "Expéditions et suivi"},
           "shipments", ("shipped_on", "order_number", "buyer", "ship_to", "carrier",
                         "tracking_number", "tracking_url", "delivered_on", "delivery_note")),
    Report("invoices", {"en": "Invoices", "fr": "Factures"}, "invoices",
           ("issued_on", "invoice_number", "order_number", "buyer", "billing_account", "total",
            "currency")),
    Report("payments_by_card", {"en": "Payments by card", "fr": "Paiements par carte"},
           "payments", ("card_brand", "card_last4", "orders", "total", "currency"),
           group_by=("card_brand", "card_last4", "currency"), order_by=("-total",),
           where=("card", "spent")),
    Report("approval_turnaround", {"en": "Approval turnaround", "fr": "Délais d'approbation"},
           "approvals", ("month", "requests", "approved", "rejected", "pending",
                         "hours_to_decide"), group_by=("month",)),
    # behind GET /licenses rather than GET /reports
    Report("licenses", {"en": "Software licenses", "fr": "Licences logicielles"}, "lines",
           ("placed_on", "order_number", "part_number", "product", "manufacturer", "quantity",
            "spend", "currency", "renewal_on"), where=("software", "spent"), listed=False),
    Report("license_totals", {"en": "Software licenses by publisher and product",
                              "fr": "Licences logicielles par éditeur et produit"}, "lines",
           ("manufacturer", "part_number", "product", "quantity", "spend", "currency"),
           group_by=("manufacturer", "part_number", "product", "currency"),
           order_by=("manufacturer",), where=("software", "spent"), listed=False),
]
STANDARD_BY_KEY = {r.key: r for r in STANDARD}
CUSTOM_PREFIX = "custom-"


# ---- custom reports ---------------------------------------------------------------------

def _as_report(row: CustomReport) -> Report:
    return Report(f"{CUSTOM_PREFIX}{row.id}", {"en": row.name, "fr": row.name}, row.source,
                  tuple(row.columns), group_by=tuple(row.group_by),
                  fixed_filters=tuple(sorted((row.filters or {}).items())), custom=True,
                  owner_id=row.user_id)


def check_declaration(source_name, columns, group_by, filters):
    """A custom report's choices must make a query: columns and filters of one source,
    grouped columns by dimensions and the rest by measures (or no grouping at all)."""
    source = SOURCES.get(source_name)
    if source is None:
        raise Invalid("unknown source", errors={"source": [f"one of {sorted(SOURCES)}"]})
    errors = {}
    unknown = [c for c in [*columns, *group_by] if c not in source.fields]
    if unknown:
        errors["columns"] = [f"unknown column {c}" for c in unknown]
    else:
        for name in group_by:
            if source.fields[name].expr is None:
                errors.setdefault("group_by", []).append(f"{name} cannot be grouped by")
        for name in columns:
            spec = source.fields[name]
            if group_by and name not in group_by and spec.agg is None:
                errors.setdefault("columns", []).append(
                    f"{name} must be grouped by, or is not a total")
            if not group_by and spec.expr is None:
                errors.setdefault("columns", []).append(f"{name} needs a grouping")
    bad_filters = [f for f in filters if f not in source.filters]
    if bad_filters:
        errors["filters"] = [f"unknown filter {f}" for f in bad_filters]
    if errors:
        raise Invalid("this report cannot be built", code="invalid_report", errors=errors)
    return source


def save_custom(session, ctx, name, columns, group_by=(), filters=None, source="lines"):
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    declared = check_declaration(source, columns, group_by, filters)
    _require(ctx, declared.right)
    row = CustomReport(company_id=ctx.company_id, user_id=ctx.user_id, name=name,
                       source=source, columns=list(columns), group_by=list(group_by),
                       filters=filters)
    session.add(row)
    session.flush()
    return describe(_as_report(row), declared)


def delete_custom(session, ctx, key):
    report = find_report(session, ctx, key)
    if not report.custom:
        raise NotFound("no such custom report", code="report_not_found")
    session.execute(delete(CustomReport).where(
        CustomReport.id == int(key[len(CUSTOM_PREFIX):])))
    # its schedules would have nothing left to send
    session.execute(delete(ReportSchedule).where(ReportSchedule.company_id == ctx.company_id,
                                                 ReportSchedule.report_key == key))


def _custom_reports(session, ctx):
    rows = session.scalars(select(CustomReport).where(
        CustomReport.company_id == ctx.company_id, CustomReport.user_id == ctx.user_id)
        .order_by(CustomReport.id))
    return [_as_report(r) for r in rows]


# ---- finding and running reports --------------------------------------------------------

def _require(ctx, right):
    if right not in (ctx.features or []):
        raise Forbidden(f"this report needs {right}", code="forbidden")


def find_report(session, ctx_or_company, key, owner_id=None):
    """A standard report, or a custom one of the caller's (a schedule passes the company
    and owner instead of a caller)."""
    if key in STANDARD_BY_KEY:
        return STANDARD_BY_KEY[key]
    company_id = getattr(ctx_or_company, "company_id", ctx_or_company)
    owner_id = getattr(ctx_or_company, "user_id", owner_id)
    if key.startswith(CUSTOM_PREFIX) and key[len(CUSTOM_PREFIX):].isdigit():
        row = session.scalar(select(CustomReport).where(
            CustomReport.id == int(key[len(CUSTOM_PREFIX):]),
            CustomReport.company_id == company_id, CustomReport.user_id == owner_id))
        if row is not None:
            return _as_report(row)
    raise NotFound("no such report", code="report_not_found")


def list_reports(session, ctx):
    reports = [r for r in STANDARD if r.listed] + _custom_reports(session, ctx)
    return [describe(r, SOURCES[r.source]) for r in reports
            if SOURCES[r.source].right in (ctx.features or [])]


def prepare(session, ctx, key, today, date_from=None, date_to=None, filters=None):
    """The query of a report the caller may run, over its window: (report, ReportQuery)."""
    report = find_report(session, ctx, key)
    source = SOURCES[report.source]
    _require(ctx, source.right)
    start, end = window(date_from, date_to, today)
    return report, ReportQuery(source, report, ctx.company_id, start, end, filters)


def query_for(session, company_id, owner_id, key, start, end, filters=None):
    """The query of a report for work the service does by itself (schedules, benchmarks)."""
    report = find_report(session, company_id, key, owner_id)
    return report, ReportQuery(SOURCES[report.source], report, company_id, start, end,
                               filters)


def run(session, ctx, key, today, date_from=None, date_to=None, filters=None, cursor=None,
        limit=50):
    """A page of a report: {key, title, columns, items, next_cursor}."""
    report, query = prepare(session, ctx, key, today, date_from, date_to, filters)
    rows, next_cursor = query.page(session, cursor, limit)
    return {"key": report.key, "title": report.title.get(ctx.locale, report.title["en"]),
            "columns": query.columns, "next_cursor": next_cursor,
            "items": [{c: json_value(v) for c, v in zip(query.columns, row)} for row in rows]}


def csv_page(session, ctx, key, today, date_from=None, date_to=None, filters=None,
             cursor=None, limit=None):
    report, query = prepare(session, ctx, key, today, date_from, date_to, filters)
    return engine.csv_page(query, session, cursor, limit, f"{report.key}.csv")
