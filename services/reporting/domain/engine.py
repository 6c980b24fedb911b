"""The one query engine every report runs on.

A `Source` says what can be asked of one fact table: its fields (a value per fact row, a
value per group, or both), the filters users may set, fixed conditions reports may use, the
date column the report window applies to, the right it needs, and the `Rollup` (monthly
partial totals) that can answer some of its grouped reports. A `Report` declares columns,
grouping, order and conditions over a source. `ReportQuery` turns one into SQL, always
limited to the caller's company and window, and reads it by pages: keyset pages on (date, id)
for line-level reports, offsets for grouped ones (a few thousand groups at most). Rows are
read from the database as they are written out, never all at once.

A grouped report reads a rollup instead of the facts when the rollup holds what it asks: its
grouping and conditions use only the columns one grain keeps, its totals have partials there
(a distinct count only from the grain it was counted in), and the window spans whole months.
The months the window only cuts are read from the facts; both parts are summed together, so
the figures are those of the facts (tests compare the two).

CSV pages are written by the database: each row comes as one string of cells (cells.py),
checked and turned into CSV lines a page at a time (`_csv_lines`). Reports with values only
Python spells, and a page with a separator in a value, are written row by row by the csv
module.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Column, func, literal, select, tuple_, union_all
from sqlalchemy.sql import visitors

from services.common.csvout import FORMULA_STARTS, CsvWriter
from services.common.errors import Invalid
from services.common.paging import cursor_id
from services.reporting.domain.cells import RS, US, has_cell, row_text

MAX_YEARS = 3
CSV_PAGE = 20000  # lines per page when streaming CSV: a few MB per RPC reply
# groups per CSV page of a grouped report: their rows are short, and each page groups again
CSV_GROUP_PAGE = 50000
TEXT, INT, MONEY, DATE, DATETIME, HOURS, RENEWAL = (
    "text", "int", "money", "date", "datetime", "hours", "renewal")


@dataclass(frozen=True)
class Field:
    kind: str
    expr: object = None  # the value on one fact row (None: only meaningful per group)
    agg: object = None   # the value over a group (None: can only be grouped by)
    partial: str | None = None  # the rollup column that holds this total, summed over months
    per_grain: bool = False     # a distinct count: adds up only within the grain it was counted


@dataclass(frozen=True)
class Rollup:
    """Partial totals of a source's rows, per company, month and grain (see rollups.py)."""
    model: type
    condition: str  # the source's condition every rolled-up row meets
    grains: dict    # name -> the fact columns its rows are grouped by, besides `keys`
    month: str = "placed_month"
    keys: tuple = ("placed_month", "placed_quarter", "currency")  # kept by every grain


@dataclass(frozen=True)
class Source:
    name: str
    model: type
    date: str               # the column the report window applies to
    right: str              # the feature a caller needs to report on it
    fields: dict
    filters: dict = field(default_factory=dict)     # name -> (column, int or str)
    conditions: dict = field(default_factory=dict)  # name -> SQL condition
    rollup: Rollup | None = None


@dataclass(frozen=True)
class Report:
    key: str
    title: dict              # {"en": ..., "fr": ...}
    source: str
    columns: tuple
    group_by: tuple = ()
    order_by: tuple = ()     # column names, "-name" for descending
    where: tuple = ()        # names of the source's conditions
    fixed_filters: tuple = ()  # ((name, value), ...) saved with a custom report
    custom: bool = False
    owner_id: int | None = None
    listed: bool = True


# ---- report windows ---------------------------------------------------------------------

def years_before(day, years):
    if day.year - years < 1:  # before the calendar's first year: as far back as it goes
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def window(date_from, date_to, today):
    """[start, end) in datetimes for dates `from`..`to` inclusive. `to` defaults to today,
    `from` to 3 years before `to`; more than 3 years between them is refused."""
    date_to = date_to or today
    date_from = date_from or years_before(date_to, MAX_YEARS)
    if date_to < date_from:
        raise Invalid("`to` is before `from`", code="invalid_range",
                      errors={"to": ["must not be before from"]})
    if date_from < years_before(date_to, MAX_YEARS):
        raise Invalid("at most 3 years between from and to", code="range_too_long",
                      errors={"to": ["at most 3 years after from"]})
    start = datetime.combine(date_from, datetime.min.time())
    if date_to == date.max:  # the calendar's last day has no next one
        return start, datetime.max
    return start, datetime.combine(date_to + timedelta(days=1), datetime.min.time())


# ---- formatting -------------------------------------------------------------------------

def _money(value):
    return None if value is None else Decimal(int(value)).scaleb(-2)


def _date(value):
    return None if value is None else value.isoformat()[:10]


def _datetime(value):
    return None if value is None else value.isoformat() + "Z"


def _hours(value):
    return None if value is None else round(float(value) / 3600, 1)


def _int(value):
    return None if value is None else int(value)


def _renewal(value):
    # software is sold as yearly subscriptions or maintenance: it renews a year after purchase
    return None if value is None else years_before(value.date(), -1).isoformat()


CONVERTERS = {MONEY: _money, DATE: _date, DATETIME: _datetime, HOURS: _hours, INT: _int,
              RENEWAL: _renewal}


def json_value(value):
    return str(value) if isinstance(value, Decimal) else value


# ---- the query --------------------------------------------------------------------------

def _clause(expr):
    return expr.__clause_element__() if hasattr(expr, "__clause_element__") else expr


def _columns_of(expr, table):
    """The names of `table`'s columns that an expression uses."""
    return {e.name for e in visitors.iterate(_clause(expr))
            if isinstance(e, Column) and e.table is table}


def _on_table(expr, table, other):
    """The expression with `table`'s columns replaced by `other`'s of the same names."""
    def swap(e):
        if isinstance(e, Column) and e.table is table:
            return other.c[e.name]
        return None
    return visitors.replacement_traverse(_clause(expr), {}, swap)


def _month(moment):
    return f"{moment.year:04d}-{moment.month:02d}"


def _whole_months(start, end):
    """[first, last): the first days of the whole months within [start, end)."""
    first = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first = (first + timedelta(days=32)).replace(day=1)
    return first, end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class ReportQuery:
    def __init__(self, source: Source, report: Report, company_id, start, end, filters=None):
        self.source, self.report = source, report
        self.model = model = source.model
        self.company_id, self.start, self.end = company_id, start, end
        self.columns = list(report.columns)
        self.grouped = bool(report.group_by)
        self.kinds = [source.fields[name].kind for name in self.columns]
        self.converters = [(i, CONVERTERS[k]) for i, k in enumerate(self.kinds)
                           if k in CONVERTERS]
        self.text_columns = [i for i, k in enumerate(self.kinds) if k == TEXT]
        self.date_column = getattr(model, source.date)
        self.id_column = model.id

        self.conditions = {name: source.conditions[name] for name in report.where}
        self.filters, filtered = [], set()
        for name, value in [*report.fixed_filters, *(filters or {}).items()]:
            if name not in source.filters:
                raise Invalid(f"{report.key} cannot be filtered by {name}",
                              code="unknown_filter", errors={name: ["not a filter of this report"]})
            column, kind = source.filters[name]
            try:
                self.filters.append(column == kind(value))
            except (TypeError, ValueError):
                raise Invalid(f"not a valid {name}", errors={name: ["not a valid value"]})
            filtered |= _columns_of(column, model.__table__)
        self.grain = self._grain(filtered) if self.grouped else None
        self.stmt = self._statement()
        self._csv_stmt = None

    # -- which rollup grain, if any, answers this report
    def _grain(self, filtered):
        rollup, fields, table = self.source.rollup, self.source.fields, self.model.__table__
        if rollup is None or rollup.condition not in self.conditions:
            return None
        kept_by_all = set(rollup.keys)
        grouped = set().union(*[_columns_of(fields[g].expr, table)
                                for g in self.report.group_by])
        used = grouped | filtered | set().union(*[
            _columns_of(c, table) for n, c in self.conditions.items() if n != rollup.condition])
        totals = [fields[n] for n in self.columns if n not in self.report.group_by]
        rollup_columns = rollup.model.__table__.c
        if any(t.partial is None or t.partial not in rollup_columns for t in totals):
            return None
        exact = any(t.per_grain for t in totals)
        best = None
        for name, dims in rollup.grains.items():
            if not used <= set(dims) | kept_by_all:
                continue
            if exact and grouped - kept_by_all != set(dims):
                continue
            if best is None or len(dims) < len(rollup.grains[best]):
                best = name
        if best is None:
            return None
        first, last = _whole_months(self.start, self.end)
        return best if first < last else None

    # -- the statement, with each column's value passed through `cell`
    def _fact_conditions(self, start, end):
        """The rows of the company, conditions and filters between `start` (None: the
        page adds it) and `end`."""
        return [self.model.company_id == self.company_id,
                *([] if start is None else [self.date_column >= start]),
                self.date_column < end, *self.conditions.values(), *self.filters]

    def _statement(self, cell=None):
        """The report's select (columns labelled by name, in order); with `cell`, a select
        of one text per row instead (and the row's id, for line-level reports)."""
        fields, report = self.source.fields, self.report
        if not self.grouped:
            values = [fields[name].expr for name in self.columns]
            if cell is not None:
                stmt = select(cell(self.kinds, values), self.id_column)
            else:
                # keyset columns: the id, hidden after the report's own, and the date, hidden
                # too unless a column shows it already (each datetime read costs, a million times)
                shown = [i for i, v in enumerate(values) if v is self.date_column]
                hidden = [self.id_column] if shown else [self.date_column, self.id_column]
                self.cursor_date = shown[0] if shown else len(self.columns)
                stmt = select(*[v.label(n) for n, v in zip(self.columns, values)], *hidden)
            return (stmt.where(*self._fact_conditions(None, self.end))
                    .order_by(self.date_column, self.id_column))
        if self.grain is None:
            groups = [fields[g].expr for g in report.group_by]
            values = {name: fields[name].expr if name in report.group_by else fields[name].agg
                      for name in self.columns}
            stmt = select().where(*self._fact_conditions(self.start, self.end))
        else:
            groups, values, stmt = self._from_rollup()
        if cell is not None:
            stmt = stmt.add_columns(cell(self.kinds, [values[n] for n in self.columns]))
        else:
            stmt = stmt.add_columns(*[values[n].label(n) for n in self.columns])
        order = []
        for name in report.order_by:
            value = values[name.lstrip("-")]
            order.append(value.desc() if name.startswith("-") else value.asc())
        return stmt.group_by(*groups).order_by(*order, *[g.asc() for g in groups])

    def _from_rollup(self):
        """(group values, column values, select) summing the rollup's whole months and the
        facts of the months the window cuts."""
        fields, report, rollup = self.source.fields, self.report, self.source.rollup
        table, rolled = self.model.__table__, rollup.model.__table__
        totals = [n for n in self.columns if n not in report.group_by]
        first, last = _whole_months(self.start, self.end)
        on_rollup = lambda e: _on_table(e, table, rolled)  # noqa: E731
        parts = [select(*[on_rollup(fields[g].expr).label(f"g{i}")
                          for i, g in enumerate(report.group_by)],
                        *[rolled.c[fields[n].partial].label(f"t{i}")
                          for i, n in enumerate(totals)])
                 .where(rolled.c.company_id == self.company_id,
                        rolled.c.grain == self.grain,
                        rolled.c[rollup.month] >= _month(first),
                        rolled.c[rollup.month] < _month(last),
                        *[on_rollup(c) for n, c in self.conditions.items()
                          if n != rollup.condition],
                        *[on_rollup(c) for c in self.filters])]
        for lo, hi in ((self.start, first), (last, self.end)):
            if lo < hi:
                groups = [fields[g].expr for g in report.group_by]
                parts.append(select(*[g.label(f"g{i}") for i, g in enumerate(groups)],
                                    *[fields[n].agg.label(f"t{i}")
                                      for i, n in enumerate(totals)])
                             .where(*self._fact_conditions(lo, hi)).group_by(*groups))
        both = union_all(*parts).subquery()
        groups = [both.c[f"g{i}"] for i in range(len(report.group_by))]
        values = {g: both.c[f"g{i}"] for i, g in enumerate(report.group_by)}
        values.update({n: func.sum(both.c[f"t{i}"]) for i, n in enumerate(totals)})
        return groups, values, select().select_from(both)

    # -- pages
    def _page_stmt(self, stmt, cursor, limit):
        if cursor is None:
            if not self.grouped:
                stmt = stmt.where(self.date_column >= self.start)
            return stmt.limit(limit + 1)
        if self.grouped:  # the offset of the next group: a row count, as an id is
            return stmt.offset(cursor_id(cursor)).limit(limit + 1)
        try:
            at, last_id = cursor.split("|")
            at, last_id = datetime.fromisoformat(at), cursor_id(last_id)
        except ValueError:
            raise Invalid("not a cursor of this report", code="invalid_cursor",
                          errors={"cursor": ["unknown cursor"]})
        # one lower bound, the cursor's, so that both databases start the index range scan
        # there (given the window's start too, SQLite scans from it)
        return stmt.where(self.date_column >= max(at, self.start),
                          tuple_(self.date_column, self.id_column)
                          > tuple_(literal(at), literal(last_id))).limit(limit + 1)

    def _format(self, raw):
        width = len(self.columns)
        converters = self.converters
        rows = []
        for record in raw:
            row = list(record[:width])
            for i, convert in converters:
                row[i] = convert(row[i])
            rows.append(row)
        return rows

    def page(self, session, cursor=None, limit=50):
        """(rows as lists in column order, next cursor or None)."""
        # Core rows, not ORM ones: a third less time per row on million-row exports
        raw = session.connection().execute(self._page_stmt(self.stmt, cursor, limit)).all()
        more = len(raw) > limit
        raw = raw[:limit]
        next_cursor = None
        if more:
            if self.grouped:
                next_cursor = str(int(cursor or 0) + limit)
            else:
                last = raw[-1]
                next_cursor = f"{last[self.cursor_date].isoformat()}|{last[-1]}"
        return self._format(raw), next_cursor

    def stream(self, session, batch=20000):
        """Every row, read page by page."""
        cursor = None
        while True:
            rows, cursor = self.page(session, cursor, batch)
            yield from rows
            if cursor is None:
                return

    def csv_page(self, session, cursor=None, limit=None):
        """(a page of rows as CSV text, without the header; next cursor or None)."""
        limit = limit or (CSV_GROUP_PAGE if self.grouped else CSV_PAGE)
        if not all(has_cell(k) for k in self.kinds):
            return self._csv_by_row(session, cursor, limit)
        if self._csv_stmt is None:
            dialect = session.get_bind().dialect.name
            self._csv_stmt = self._statement(
                cell=lambda kinds, exprs: row_text(dialect, kinds, exprs))
        connection = session.connection()
        # the driver's own rows, read without SQLAlchemy's row objects (which would cost a
        # fifth of the time, a million times)
        result = connection.execute(self._page_stmt(self._csv_stmt, cursor, limit))
        rows = result.cursor.fetchall()
        result.close()
        more = len(rows) > limit
        rows = rows[:limit]
        text = _csv_lines([row[0] for row in rows], len(self.columns), self.text_columns)
        if text is None:  # a value holds a separator: let the csv module write this page
            return self._csv_by_row(session, cursor, limit)
        next_cursor = None
        if more:
            if self.grouped:
                next_cursor = str(int(cursor or 0) + limit)
            else:  # a line's date never changes: read it for the last line alone
                last_id = rows[-1][1]
                at = connection.execute(select(self.date_column).where(
                    self.id_column == last_id)).scalar_one()
                next_cursor = f"{at.isoformat()}|{last_id}"
        return text, next_cursor

    def _csv_by_row(self, session, cursor, limit):
        rows, next_cursor = self.page(session, cursor, limit)
        return CsvWriter(self.columns, self.text_columns, bom=False).rows(rows), next_cursor


# a text cell (quoted by the database) that starts like a formula
_FORMULA = re.compile('(^|[%s%s])"(?=[%s])' % (US, RS, re.escape("".join(FORMULA_STARTS))))


def _requote(row, text_columns):
    """A row whose text values hold quotes, with those quotes doubled."""
    cells = row.split(US)
    for i in text_columns:
        cells[i] = '"' + cells[i][1:-1].replace('"', '""') + '"'
    return US.join(cells)


def _csv_lines(rows, width, text_columns):
    """CSV lines from rows of US-separated cells (text cells between quotes), or None when
    a value holds a separator. A page is checked at once, with counts and searches of one
    character, which are fast: rows whose values hold quotes have them doubled; text cells
    that start like a formula (rare) are neutralised by a regular expression, slower. Numbers
    are not quoted, so a negative amount stays one."""
    if not rows:
        return ""
    page = RS.join(rows)
    if page.count(US) != (width - 1) * len(rows) or page.count(RS) != len(rows) - 1:
        return None
    quotes = 2 * len(text_columns)
    if page.count('"') != quotes * len(rows):
        page = RS.join([row if row.count('"') == quotes else _requote(row, text_columns)
                        for row in rows])
    if page.startswith('"') and page[1:2] in FORMULA_STARTS or any(
            c in page and '"' + c in page for c in FORMULA_STARTS):
        page = _FORMULA.sub("\\1\"'", page)
    return page.replace(US, ",").replace(RS, "\r\n") + "\r\n"


def csv_page(query, session, cursor, limit, filename):
    """A page of a query as CSV text, the header (and byte-order mark) on the first:
    {csv, next_cursor, filename}; `limit` None is the query's own page size. The gateway
    streams pages as it gets them."""
    text, next_cursor = query.csv_page(session, cursor, limit)
    if cursor is None:
        text = CsvWriter(query.columns, query.text_columns).header() + text
    return {"csv": text, "next_cursor": next_cursor, "filename": filename}


def csv_document(query, session, limit=None):
    """The whole report as one CSV text (a scheduled report's attachment)."""
    parts, cursor = [CsvWriter(query.columns, query.text_columns).header()], None
    while True:
        text, cursor = query.csv_page(session, cursor, limit)
        parts.append(text)
        if cursor is None:
            return "".join(parts)


def describe(report: Report, source: Source, locale=None):
    """What GET /reports says of a report."""
    return {"key": report.key, "title": report.title if locale is None
            else report.title.get(locale, report.title["en"]),
            "columns": list(report.columns), "group_by": list(report.group_by),
            "filters": ["from", "to", *[f for f in source.filters
                                        if f not in dict(report.fixed_filters)]],
            "right": source.right, "custom": report.custom}


def parse_day(value):
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("not a date", errors={"date": [f"{value!r} is not a date"]})
