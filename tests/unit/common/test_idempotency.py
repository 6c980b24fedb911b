"""Idempotency keys (services/common/idempotency.py) on the database the tests run on: a
key replays the first reply, and a key longer than its column is a 422, not a database
error (PostgreSQL refuses it, SQLite would keep it)."""
import pytest

from services.common.errors import Invalid
from services.common.idempotency import MAX_KEY_LENGTH, once
from services.orders.models import Base


@pytest.fixture
def session(session_factory):
    return session_factory("orders", Base)


def test_the_same_key_replays_the_first_reply(session):
    made = []
    first = once(session, "checkout", "k" * MAX_KEY_LENGTH, {"cart_id": 1},
                 lambda: made.append(1) or {"number": "R-1"})
    again = once(session, "checkout", "k" * MAX_KEY_LENGTH, {"cart_id": 1},
                 lambda: made.append(1) or {"number": "R-2"})
    assert first == again == {"number": "R-1"} and made == [1]


def test_a_key_longer_than_its_column_is_a_422(session):
    with pytest.raises(Invalid) as refused:
        once(session, "checkout", "k" * (MAX_KEY_LENGTH + 1), {"cart_id": 1},
             lambda: pytest.fail("produced despite the refused key"))
    assert refused.value.status == 422 and refused.value.code == "idempotency_key_too_long"
    assert "Idempotency-Key" in refused.value.errors
    session.commit()  # nothing half-written is left to fail the transaction
