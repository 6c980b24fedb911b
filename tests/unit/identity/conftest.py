"""Fixtures for identity's domain tests: a fresh migrated identity database per test."""
import pytest

from services.identity.models import Base
from tests.unit.identity.support import Company


@pytest.fixture
def session(session_factory):
    return session_factory("identity", Base)


@pytest.fixture
def company(session):
    return Company(session)


@pytest.fixture
def other_company(session):
    return Company(session, number="200", name="Globex")
