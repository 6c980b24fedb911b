"""Full-text search over products on either database.

SQLite: the FTS5 table `products_fts` (external content on `products`, kept in step by
triggers that the migration creates), ranked by bm25 with part numbers weighing most.
PostgreSQL: the generated column `products.search_vector` (tsvector, GIN index), ranked by
ts_rank. Both split text on anything that is not a letter or a digit, so that a query
tokenised here matches the same words on both engines; the last word of a query, from
three letters, also matches as a prefix ("thinkp" finds ThinkPad).

Word lists on PostgreSQL. A GIN index finds the rows of a word quickly but cannot give
their ids without visiting each row: a broad search ("latitude" in a million products
matches 25,000) visits 20,000 heap pages, 100-200 ms. So the words of the index are also
kept as lists of product ids, `search_postings` (one int4[] a word, built from the
tsvector column by `rebuild_postings`); a search of many matches unions and intersects a
few lists on the server (intarray, in C) and reads only the result. Products changed since the lists were built are listed in
`search_changes` (statement triggers) and checked against the tsvector one by one, so an
answer is always that of the GIN index; past CHANGES_MAX pending changes searches use the
GIN index again until the next build (services/catalog/indexer.py runs builds).
"""
import logging
import re
import time

import numpy as np
from sqlalchemy import Float, Integer, Text, cast, func, literal_column, select, text

from services.catalog.models import Product
from services.common.engines import is_postgres

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
MIN_PREFIX = 3
# changed products a search checks one by one before it falls back to the GIN index
CHANGES_MAX = 5000
BUILD_LOCK = 0x70726f63  # pg advisory lock: one builder of the word lists at a time
log = logging.getLogger(__name__)
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

    def ids(self, session) -> np.ndarray:
        """Ids of all matching products, ascending (int64)."""
        if self.postgres:
            found = postings_ids(session, self.words)
            if found is not None:
                return found
            joined = session.scalar(select(func.string_agg(cast(Product.id, Text), ",")).where(self.condition()))
        else:
            joined = session.scalar(text("SELECT group_concat(rowid) FROM products_fts WHERE products_fts MATCH :m"),
                                    {"m": self.match})
        if not joined:
            return np.zeros(0, dtype=np.int64)
        ids = np.fromstring(joined, dtype=np.int64, sep=",")
        if len(ids) > 1 and (ids[1:] < ids[:-1]).any():  # FTS5 gives rowid order already
            ids.sort()
        return ids

    def count(self, session) -> int:
        if self.postgres:
            found = postings_ids(session, self.words)
            if found is not None:
                return len(found)
            return session.scalar(select(func.count()).select_from(Product).where(self.condition()))
        return session.scalar(text("SELECT count(*) FROM products_fts WHERE products_fts MATCH :m"),
                              {"m": self.match})

    def ranks(self, session, ids) -> dict:
        """{id: sort key} of these matching ids, the best lowest (as `ranked` orders them)."""
        if self.postgres:
            # by primary key: only these rows are read, not every match of the index
            score = func.ts_rank(self.vector, self.tsquery)
            found = {}
            for chunk in range(0, len(ids), 1000):
                part = [int(i) for i in ids[chunk:chunk + 1000]]
                found.update((i, -r) for i, r in session.execute(
                    select(Product.id, score).where(Product.id.in_(part))))
            return found
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


# ---------------------------------------------------------------- word lists (PostgreSQL)

def _id_array(data) -> np.ndarray:
    """Product ids from array_send(int4[]) (the array's binary form: one C call on the
    server, no text to parse here), as int64."""
    if data is None:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(data, dtype=">i4")
    ndim = int(raw[0]) if len(raw) else 0
    if ndim == 0:
        return np.zeros(0, dtype=np.int64)
    # header: ndim, has-nulls, element type, (length, lower bound) per dimension; then
    # (4, value) for each element
    return raw[3 + 2 * ndim + 1::2].astype(np.int64)


def find_sorted(haystack: np.ndarray, needles: np.ndarray):
    """(positions, found): where each needle is in the sorted haystack, and whether it is."""
    if not len(haystack) or not len(needles):
        return np.zeros(len(needles), dtype=np.int64), np.zeros(len(needles), dtype=bool)
    at = np.searchsorted(haystack, needles)
    at[at == len(haystack)] = 0
    return at, haystack[at] == needles


def _members(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """A mask of the needles found in the sorted haystack."""
    return find_sorted(haystack, needles)[1]


def pending_changes(session, limit=CHANGES_MAX) -> int:
    """Products changed since the lists were built, counted up to limit + 1."""
    return session.scalar(text("SELECT count(*) FROM (SELECT 1 FROM search_changes LIMIT :n) c"),
                          {"n": limit + 1})


_READ_LISTS = """
WITH state AS (SELECT generation FROM search_state WHERE id = 1),
lists AS (
    SELECT w.i AS word, sp.ids
    FROM unnest(CAST(:exact AS text[])) WITH ORDINALITY AS w(word, i)
    JOIN search_postings sp ON sp.generation = (SELECT generation FROM state) AND sp.lexeme = lower(w.word)
    UNION ALL
    SELECT :last, sp.ids FROM search_postings sp
    WHERE :prefix AND sp.generation = (SELECT generation FROM state) AND sp.lexeme LIKE lower(:last_word) || '%'
),
per_word AS (SELECT word, catalog_ids_union(ids) AS ids FROM lists GROUP BY word),
found AS (
    -- a word that holds no list leaves nothing; the smallest list goes first
    SELECT CASE WHEN count(*) = :words THEN catalog_ids_intersection(ids ORDER BY icount(ids)) END AS ids
    FROM per_word
)
SELECT 0 AS part, array_send(found.ids) FROM found
UNION ALL
SELECT 1, array_send(array_agg(product_id)) FROM search_changes
UNION ALL
SELECT 2, array_send(array_agg(c.product_id))
FROM search_changes c
-- OFFSET 0 keeps this a lookup by key per changed row: the planner must not turn it into
-- a GIN scan of every match
JOIN LATERAL (SELECT p.search_vector FROM products p WHERE p.id = c.product_id OFFSET 0) p ON true
WHERE p.search_vector @@ to_tsquery('simple'::regconfig, :tsquery)
"""


def postings_ids(session, words) -> np.ndarray | None:
    """Ids of the products holding every word (the last also as a prefix), ascending, from
    the word lists; None when too many changes are pending (the GIN index answers then).
    One statement, so the lists, the pending changes and the rows are of one snapshot."""
    if not words or pending_changes(session) > CHANGES_MAX:
        return None
    prefix = _prefix(words[-1])
    parts = dict(session.execute(text(_READ_LISTS), {
        "exact": words[:-1] if prefix else list(words), "last": len(words), "prefix": prefix,
        "last_word": words[-1], "words": len(words), "tsquery": _pg_query(words)}).all())
    found = _id_array(parts.get(0))  # intarray keeps arrays sorted
    changed, matching = (np.sort(_id_array(parts.get(part))) for part in (1, 2))
    # a changed product's words are those of its row now, not of the lists
    found = found[~_members(changed, found)]
    return np.union1d(found, matching) if len(matching) else found


def rebuild_postings(engine, on_built=None) -> dict | None:
    """Build the word lists from the tsvector column and publish them with the changes they
    cover removed; None when another builder holds the lock. Searches go on meanwhile
    (one snapshot is read; writers are not blocked); changes made during the build stay
    pending. {generation, words, published_changes, seconds}."""
    started = time.monotonic()
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": BUILD_LOCK}):
            conn.rollback()
            return None
        conn.commit()
        try:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # one sort of every (word, id)
            current = conn.scalar(text("SELECT generation FROM search_state WHERE id = 1"))
            new = current + 1
            # rows of a build that stopped before it published
            conn.execute(text("DELETE FROM search_postings WHERE generation <> :g"), {"g": current})
            conn.execute(text("DELETE FROM search_changes_seen"))
            seen = conn.execute(text("INSERT INTO search_changes_seen (product_id, seq) "
                                     "SELECT product_id, seq FROM search_changes")).rowcount
            words = conn.execute(text(
                "INSERT INTO search_postings (generation, lexeme, ids) "
                "SELECT :g, w.lexeme, array_agg(p.id ORDER BY p.id) "
                "FROM products p, unnest(p.search_vector) AS w GROUP BY w.lexeme"), {"g": new}).rowcount
            conn.commit()
            if on_built is not None:
                on_built()
            # publish: read committed, so a change made again during the build (a new seq)
            # is re-read by the delete and stays pending
            published = conn.execute(text(
                "DELETE FROM search_changes c USING search_changes_seen s "
                "WHERE c.product_id = s.product_id AND c.seq = s.seq")).rowcount
            conn.execute(text("UPDATE search_state SET generation = :g WHERE id = 1"), {"g": new})
            conn.execute(text("DELETE FROM search_postings WHERE generation < :g"), {"g": new})
            conn.execute(text("DELETE FROM search_changes_seen"))
            conn.commit()
        finally:
            conn.rollback()
            conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": BUILD_LOCK})
            conn.commit()
    report = {"generation": new, "words": words, "published_changes": published,
              "seen_changes": seen, "seconds": round(time.monotonic() - started, 2)}
    log.info("search word lists built: %s", report)
    return report


def vacuum_products(engine):
    """VACUUM ANALYZE after a large change: merges the GIN index's pending entries, marks
    pages all-visible, refreshes the planner's statistics."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("products", "search_postings", "search_changes"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
