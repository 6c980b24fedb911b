"""One paging helper: keyset pages both ways, and bad cursors are a 422, never a 500."""
import pytest
from sqlalchemy import select

from services.approvals.models import AuditEntry, Base
from services.common.errors import Invalid
from services.common.paging import cursor_id, keyset_page


@pytest.mark.parametrize("bad", ["x", "-1", "1.5", str(2 ** 63), "99999999999999999999999"])
def test_a_bad_cursor_is_invalid(bad):
    with pytest.raises(Invalid) as exc:
        cursor_id(bad)
    assert exc.value.code == "invalid_cursor"


def test_pages_forward_and_newest_first(session_factory):
    db = session_factory("approvals", Base)
    db.add_all([AuditEntry(company_id=1, action=f"a{i}") for i in range(5)])
    db.flush()
    query = select(AuditEntry)
    rows, cursor = keyset_page(db, query, AuditEntry.id, limit=2)
    seen = [r.action for r in rows]
    while cursor:
        rows, cursor = keyset_page(db, query, AuditEntry.id, limit=2, cursor=cursor)
        seen += [r.action for r in rows]
    assert seen == ["a0", "a1", "a2", "a3", "a4"]
    rows, cursor = keyset_page(db, query, AuditEntry.id, limit=3, descending=True)
    assert [r.action for r in rows] == ["a4", "a3", "a2"]
    rows, cursor = keyset_page(db, query, AuditEntry.id, limit=3, cursor=cursor, descending=True)
    assert [r.action for r in rows] == ["a1", "a0"] and cursor is None
    pairs, _ = keyset_page(db, select(AuditEntry, AuditEntry.action), AuditEntry.id, limit=1,
                           row_id=lambda row: row[0].id)
    assert pairs[0][1] == "a0"
