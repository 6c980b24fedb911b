"""Spend rollups: each company's spent order lines summed per month, kept beside the line
facts, so that a spend report over 3 years reads thousands of rows instead of a million.

A line counts as spent while its order is neither rejected nor cancelled. The rollups follow
each order's spent state: when an order starts or stops counting (placed; rejected or
cancelled; back again), its lines are added to or taken from the rows of their month, for
every grain, by one upsert keyed by (company, grain, month, currency, group key).
`facts.record_event` does it in the event's own transaction, and an event is applied once
(its id is logged), so the rollups stay exact. A rebuild replays the facts alone and sums the
rollups again from them (`refresh`); tests check that both ways give the same rows.
Handlers of two orders of one company, month and currency both write the month grain's row
first: on PostgreSQL the second waits for the first to commit, and they cannot deadlock.

Orders are counted distinctly within each grain: an order lies in one month, so its count
adds up over months, but not across grains (an order of Dell and HP is one order of each).
"""
from functools import lru_cache

from sqlalchemy import Boolean, delete, select, text

from services.reporting.domain.engine import Rollup
from services.reporting.models import OrderFact, SpendRollup

NOT_SPENT = ("rejected", "cancelled")
# grain -> the line fact columns it groups by, besides the month, quarter and currency
GRAINS = {
    "month": (),
    "manufacturer": ("manufacturer",),
    "category": ("category",),
    "buyer": ("buyer_name", "buyer_email"),
    "billing_account": ("billing_account",),
    "ship_to": ("ship_to",),
    "product": ("part_number", "name", "manufacturer", "category"),
    "contract": ("on_contract",),
}
SPEND = Rollup(SpendRollup, condition="spent", grains=GRAINS)
TOTALS = ("orders", "lines", "quantity", "spend_cents")
UNIQUE = ("company_id", "grain", "placed_month", "currency", "group_key")


def group_key(dims):
    """SQL for a grain's values as one text: each as its length, a colon and itself (`~` if
    null), so that no two groups share a key."""
    parts = [f"coalesce(CAST(length(CAST({d} AS VARCHAR)) AS VARCHAR) || ':' || "
             f"CAST({d} AS VARCHAR), '~')" for d in dims]
    return " || '|' || ".join(parts) or "''"


DIMS = tuple(dict.fromkeys(d for dims in GRAINS.values() for d in dims))
# typed, so that PostgreSQL can match the grains' selects column by column
_NULLS = {d: "CAST(NULL AS BOOLEAN)" if isinstance(SpendRollup.__table__.c[d].type, Boolean)
          else "CAST(NULL AS VARCHAR)" for d in DIMS}


@lru_cache(maxsize=None)
def _upsert(where):
    """One statement adding `:sign` times the lines matching `where` to every grain. Written
    as SQL text: SQLite and PostgreSQL spell this upsert alike, and SQLAlchemy would compile
    its dialect-specific upsert again at every event."""
    keys = "company_id, placed_month, placed_quarter, currency"
    grains = []
    for grain, dims in GRAINS.items():
        values = ", ".join(d if d in dims else _NULLS[d] for d in DIMS)
        grains.append(
            f"SELECT {keys}, '{grain}', {group_key(dims)}, {values}, "
            f"count(DISTINCT order_number) * :sign, count(*) * :sign, "
            f"sum(quantity) * :sign, sum(spend_cents) * :sign "
            f"FROM order_line_facts WHERE {where} "
            f"GROUP BY {', '.join([keys, *dims])}")
    return text(
        f"INSERT INTO spend_rollups ({keys}, grain, group_key, {', '.join(DIMS)}, "
        f"{', '.join(TOTALS)}) " + " UNION ALL ".join(grains)
        + f" ON CONFLICT ({', '.join(UNIQUE)}) DO UPDATE SET "
        + ", ".join(f"{t} = spend_rollups.{t} + excluded.{t}" for t in TOTALS))


def add_lines(session, where, sign=1, **params):
    """Add (sign 1) or take away (sign -1) the line facts matching the SQL condition `where`
    (with its `params`) in every grain."""
    session.execute(_upsert(where), {"sign": sign, **params})


def spent(session, order_number):
    """Whether an order's lines count as spent now (None: the order is not known)."""
    status = session.scalar(select(OrderFact.status).where(
        OrderFact.order_number == order_number))
    return None if status is None else status not in NOT_SPENT


def follow(session, order_number, was_spent):
    """After an event about an order: move its lines in or out of the rollups if it started
    or stopped counting as spent."""
    now = spent(session, order_number)
    if bool(now) == bool(was_spent):
        return
    add_lines(session, "order_number = :order_number", 1 if now else -1,
              order_number=order_number)
    if not now:  # groups left empty are removed, as if they had never been added
        order = session.scalar(select(OrderFact).where(OrderFact.order_number == order_number))
        session.execute(delete(SpendRollup).where(
            SpendRollup.company_id == order.company_id, SpendRollup.grain.in_(list(GRAINS)),
            SpendRollup.placed_month == order.placed_month, SpendRollup.lines == 0))


def refresh(session, company_id=None):
    """Sum the rollups again from the line facts (after a rebuild or a bulk load)."""
    spent_lines = f"status NOT IN ({', '.join(repr(s) for s in NOT_SPENT)})"
    emptied = delete(SpendRollup)
    if company_id is None:
        session.execute(emptied)
        add_lines(session, spent_lines)
    else:
        session.execute(emptied.where(SpendRollup.company_id == company_id))
        add_lines(session, f"{spent_lines} AND company_id = :company_id", company_id=company_id)
