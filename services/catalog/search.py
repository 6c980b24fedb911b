"""Full-text search over products on either database.

SQLite: the FTS5 table `products_fts` (external content on `products`, kept in step by
triggers that the migration creates), ranked by bm25 with part numbers weighing most.
PostgreSQL: the generated column `products.search_vector` (tsvector, GIN index), ranked by
ts_rank. Both split text on anything that is not a letter or a digit, so that a query
tokenised here matches the same words on both engines; the last word of a query, from
three letters, also matches as a prefix ("thinkp" finds ThinkPad).
"""
import re

from sqlalchemy import Float, Integer, Text, cast, func, literal_column, select, text

from services.catalog.models import Product
from services.common.db import is_postgres

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
MIN_PREFIX = 3
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# SQLite reads: memory-mapped I/O and a larger page cache, per connection. Searches touch
# many scattered rows of a large table; the defaults (no mmap, 2 MB cache) make each a system
# call. Mapped pages are the file's, shared with the OS cache.
SQLITE_READ_PRAGMAS = ("PRAGMA mmap_size=1073741824", "PRAGMA cache_size=-65536")


def tune(session):
    """Set the read pragmas once on the session's SQLite connection."""
    if is_postgres(session):
        return
    connection = session.connection()
    info = connection.connection.info
    if not info.get("catalog_read_pragmas"):
        for pragma in SQLITE_READ_PRAGMAS:
            connection.exec_driver_sql(pragma)
        info["catalog_read_pragmas"] = True


def terms(q: str | None) -> list[str]:
    """The words of a query, lower-cased, as both engines index them."""
    if not q:
        return []
    words = [w[:MAX_TERM_LENGTH] for w in _WORD.findall(q.lower())]
    return words[:MAX_TERMS]


def _prefix(word):
    # a one- or two-letter prefix would expand to a large part of the vocabulary
    return len(word) >= MIN_PREFIX


def _sqlite_query(words):
    quoted = [f'"{w}"' for w in words]
    if _prefix(words[-1]):
        quoted[-1] += "*"
    return " AND ".join(quoted)


def _pg_query(words):
    # words hold only letters and digits, so they need no quoting in tsquery syntax
    parts = list(words)
    if _prefix(words[-1]):
        parts[-1] += ":*"
    return " & ".join(parts)


class FullText:
    """The full-text part of one search: a condition on products and a relevance order."""

    def __init__(self, session, words):
        self.words = words
        self.postgres = is_postgres(session)
        if self.postgres:
            self.tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), _pg_query(words))
            self.vector = literal_column("products.search_vector")
        else:
            self.match = _sqlite_query(words)

    def condition(self):
        if self.postgres:
            return self.vector.op("@@")(self.tsquery)
        return Product.id.in_(text("SELECT rowid FROM products_fts WHERE products_fts MATCH :fts_match")
                              .bindparams(fts_match=self.match))

    def ids(self, session) -> list:
        """Ids of all matching products, ascending."""
        if self.postgres:
            joined = session.scalar(select(func.string_agg(cast(Product.id, Text), ",")).where(self.condition()))
        else:
            joined = session.scalar(text("SELECT group_concat(rowid) FROM products_fts WHERE products_fts MATCH :m"),
                                    {"m": self.match})
        ids = [int(x) for x in joined.split(",")] if joined else []
        ids.sort()
        return ids

    def count(self, session) -> int:
        if self.postgres:
            return session.scalar(select(func.count()).select_from(Product).where(self.condition()))
        return session.scalar(text("SELECT count(*) FROM products_fts WHERE products_fts MATCH :m"),
                              {"m": self.match})

    def ranks(self, session) -> dict:
        """{id: sort key} of all matches, the best lowest (as `ranked` orders them)."""
        if self.postgres:
            score = func.ts_rank(self.vector, self.tsquery)
            return {i: -r for i, r in session.execute(select(Product.id, score).where(self.condition()))}
        return dict(session.execute(text("SELECT rowid, rank FROM products_fts WHERE products_fts MATCH :m"),
                                    {"m": self.match}).all())

    def ranked(self, query):
        """`query` (a select over products) ordered by relevance, best first."""
        if self.postgres:
            score = func.ts_rank(self.vector, self.tsquery)
            return query.where(self.condition()).order_by(score.desc(), Product.id)
        fts = (text("SELECT rowid AS rid, rank AS score FROM products_fts WHERE products_fts MATCH :fts_match")
               .bindparams(fts_match=self.match).columns(rid=Integer, score=Float).subquery("fts"))
        # bm25 is lower for better matches
        return query.join(fts, fts.c.rid == Product.id).order_by(fts.c.score, Product.id)
