"""Every service's Alembic history builds exactly its models, and unwinds, on this test
run's database (SQLite or PostgreSQL)."""
import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.config import DATA_SERVICES
from services.common.engines import make_engine
from services.common.migrations import alembic_config
from tests.support.databases import create_database


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_migrations_match_models_and_downgrade(service, tmp_path):
    url, drop = create_database(service, tmp_path)
    try:
        cfg = alembic_config(service, url)
        command.upgrade(cfg, "head")
        base = importlib.import_module(f"services.{service}.models").Base
        engine = make_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), base.metadata)
        # search structures a migration adds by dialect (FTS tables, tsvector, PostgreSQL's
        # word lists) are not models
        diff = [d for d in diff if not _is_search_structure(d)]
        assert diff == [], diff
        engine.dispose()
        command.downgrade(cfg, "base")
    finally:
        drop()


def _is_search_structure(d):
    text = repr(d).lower()
    return "_fts" in text or "tsv" in text or "table('search_" in text
