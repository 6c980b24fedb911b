"""A NUL character (U+0000) in any value a service writes or looks up is a 422 on either
database (PostgreSQL cannot keep one: psycopg2 refused the statement, a 500), before the
statement runs; the rest of the session goes on."""
import pytest
from sqlalchemy import select

from services.common.errors import Invalid
from services.orders.models import Base, Cart


@pytest.fixture
def session(session_factory):
    return session_factory("orders", Base)


def test_writing_a_nul_is_refused(session):
    session.add(Cart(company_id=1, user_id=1, name="a\x00b"))
    with pytest.raises(Invalid) as refused:
        session.flush()
    assert refused.value.status == 422 and refused.value.code == "nul_character"
    session.rollback()
    session.add(Cart(company_id=1, user_id=1, name="ab"))
    session.commit()


def test_looking_up_a_nul_is_refused(session):
    with pytest.raises(Invalid):
        session.scalars(select(Cart).where(Cart.name == "\x00")).all()
    session.rollback()
    assert session.scalars(select(Cart).where(Cart.name == "x")).all() == []
