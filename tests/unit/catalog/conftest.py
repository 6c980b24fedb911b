"""Fixtures for catalog's domain tests: a fresh migrated catalog database per test, with a
few products loaded."""
import pytest

from services.catalog import importer
from services.catalog.models import Base
from tests.unit.catalog.support import PRODUCTS


@pytest.fixture
def db(session_factory):
    session = session_factory("catalog", Base)
    importer.load_rows(session, PRODUCTS)
    session.commit()
    return session


@pytest.fixture(params=["columns", "rows"])
def both_paths(request, monkeypatch):
    """Run a search test on the column snapshot and on rows: the answers must agree."""
    from services.catalog.domain import search
    monkeypatch.setattr(search, "USE_COLUMNS", request.param == "columns")
    return request.param
