"""Keeps PostgreSQL's search word lists (fulltext.py) current, in the catalog process.

Every few seconds it looks at the products changed since the lists were built. Once there
are SEARCH_REBUILD_AT of them and no product changed since the last look (an import has
finished: building in the middle of one would be done again at its end), it rebuilds the
lists, one builder at a time across instances, and after a large change vacuums the
products so that the GIN index and the planner's statistics catch up. Searches stay exact
meanwhile: they check pending changes one by one, or use the GIN index past CHANGES_MAX.
Nothing to do on SQLite, whose FTS5 index answers from itself.
"""
import logging

from prometheus_client import Counter, Gauge
from sqlalchemy import text

from services.catalog import fulltext
from services.common.background import BackgroundLoop
from services.common.config import env
from services.common.engines import is_postgres

log = logging.getLogger(__name__)

PENDING = Gauge("procura_catalog_search_pending_changes",
                "Products changed since the search word lists were built (counted up to the limit)")
BUILDS = Counter("procura_catalog_search_builds_total", "Builds of the search word lists")
BUILD_SECONDS = Gauge("procura_catalog_search_last_build_seconds",
                      "Duration of the last build of the search word lists")


def rebuild(engine, vacuum_at: int = 10000) -> dict | None:
    """Build and publish the word lists; vacuum when at least `vacuum_at` changes were
    published. None when another process is building."""
    report = fulltext.rebuild_postings(engine)
    if report is not None and report["published_changes"] >= vacuum_at:
        fulltext.vacuum_products(engine)
    return report


class SearchIndexer(BackgroundLoop):
    switch_env = "SEARCH_INDEXER"
    interval_env = "SEARCH_INDEX_INTERVAL"
    interval = 5.0

    def __init__(self, interval: float | None = None):
        super().__init__(interval)
        self.last_seq = None

    def setup(self):
        super().setup()
        self.rebuild_at = int(env("SEARCH_REBUILD_AT", "1000"))
        self.vacuum_at = int(env("SEARCH_VACUUM_AT", "10000"))
        # commits of other workers need not wake this loop early
        self.database.after_commit_hooks.remove(self.kick)

    def enabled(self) -> bool:
        return is_postgres(self.database.engine) and super().enabled()

    def cycle(self) -> bool:
        with self.database.session_factory() as session:
            pending = fulltext.pending_changes(session, limit=max(self.rebuild_at, fulltext.CHANGES_MAX))
            seq = session.scalar(text("SELECT last_value FROM search_change_seq"))
        PENDING.set(pending)
        quiet, self.last_seq = seq == self.last_seq, seq
        if pending < self.rebuild_at or not quiet:
            return False
        report = rebuild(self.database.engine, self.vacuum_at)
        if report is not None:
            BUILDS.inc()
            BUILD_SECONDS.set(report["seconds"])
        return False
