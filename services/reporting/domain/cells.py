"""Report values written as CSV text by the database itself.

A million-line export spends its time turning values into Python objects and those into text,
one cell at a time. Instead, the query returns each row as one string made by one call
(SQLite's printf, PostgreSQL's format): its cells as text separated by a unit separator (US),
which the engine turns into CSV lines a whole page at a time (see
`engine.ReportQuery.csv_page`). Each kind of value is spelt the way the Python converters of
the JSON pages spell it: money as 12.50 from cents, a day as 2026-03-31, a renewal as the day
a year after purchase (28 February after a 29th), a null as nothing. Text cells come between
quotes, so that commas and line breaks need no check, and a cell that starts like a formula
is easy to find (a quote, then that character); quotes within a value are doubled by the
engine, for the rare rows that have them. Kinds that only Python spells (times, hours) have
no cell: their reports are written row by row by the csv module.
"""
from sqlalchemy import String, case, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

US = "\x1f"  # between the cells of a row
RS = "\x1e"  # between rows, in a page's check


class _Text(FunctionElement):
    type = String()
    inherit_cache = True


class money_text(_Text):
    """Cents as an amount with two decimals, exactly (integers only)."""
    name = "money_text"
    inherit_cache = True


class day_text(_Text):
    """A timestamp's day, YYYY-MM-DD."""
    name = "day_text"
    inherit_cache = True


class renewal_text(_Text):
    """The day a year after a timestamp (software renews yearly)."""
    name = "renewal_text"
    inherit_cache = True


def _arg(element, compiler, **kw):
    # compiled afresh at each use: SQLite's parameters are positional
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(money_text)
def _money_sqlite(element, compiler, **kw):
    x = lambda: _arg(element, compiler, **kw)  # noqa: E731
    return (f"printf('%s%d.%02d', CASE WHEN {x()} < 0 THEN '-' ELSE '' END, "
            f"abs({x()}) / 100, abs({x()}) % 100)")


@compiles(money_text, "postgresql")
def _money_postgresql(element, compiler, **kw):
    # a numeric with two decimals, exactly, and cheaper than a division
    return f"CAST({_arg(element, compiler, **kw)} * 0.01 AS VARCHAR)"


@compiles(day_text)
def _day_sqlite(element, compiler, **kw):
    # SQLite keeps times as ISO text: the day is its first ten characters
    return f"substr({_arg(element, compiler, **kw)}, 1, 10)"


@compiles(day_text, "postgresql")
def _day_postgresql(element, compiler, **kw):
    return f"to_char({_arg(element, compiler, **kw)}, 'YYYY-MM-DD')"


@compiles(renewal_text)
def _renewal_sqlite(element, compiler, **kw):
    x = lambda: _arg(element, compiler, **kw)  # noqa: E731
    # date(..., '+1 year') would make 29 February into 1 March
    return (f"CASE WHEN substr({x()}, 6, 5) = '02-29' "
            f"THEN (CAST(substr({x()}, 1, 4) AS INTEGER) + 1) || '-02-28' "
            f"ELSE date({x()}, '+1 year') END")


@compiles(renewal_text, "postgresql")
def _renewal_postgresql(element, compiler, **kw):
    return f"to_char({_arg(element, compiler, **kw)} + interval '1 year', 'YYYY-MM-DD')"


KINDS = ("text", "int", "money", "date", "renewal")


def _not_null(expr):
    return getattr(expr, "nullable", True) is False


def _cell(dialect, kind, expr):
    """(format, arguments) of a cell within the row's printf() or format()."""
    if kind == "text":
        return '"%s"', [expr]
    if kind == "date" and dialect == "sqlite":  # ISO text in SQLite: its first ten characters
        return "%.10s", [expr]
    if kind == "money" and dialect == "sqlite" and _not_null(expr):
        cents = func.abs(expr)
        return "%s%d.%02d", [case((expr < 0, "-"), else_=""), cents.op("/")(100),
                             cents.op("%")(100)]
    if kind in ("money", "date", "renewal"):
        value = {"money": money_text, "date": day_text, "renewal": renewal_text}[kind](expr)
        return "%s", [value if _not_null(expr) else case((expr.is_(None), None), else_=value)]
    return "%s", [expr]  # a number as it is


def has_cell(kind):
    return kind in KINDS


def row_text(dialect, kinds, exprs):
    """One string per row: the cells of `exprs` (of `kinds`) separated by US."""
    formats, arguments = [], []
    for kind, expr in zip(kinds, exprs):
        format_, args = _cell(dialect, kind, _clause(expr))
        formats.append(format_)
        arguments += args
    call = func.printf if dialect == "sqlite" else func.format
    return call(literal(US.join(formats), String), *arguments, type_=String)


def _clause(expr):
    return expr.__clause_element__() if hasattr(expr, "__clause_element__") else expr
