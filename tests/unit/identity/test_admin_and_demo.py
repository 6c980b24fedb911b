"""`procura create-staff` and the demo data."""
import pytest
from sqlalchemy import func, select

from services.common.errors import Unauthorized
from services.identity import demo, domain
from services.identity.admin import AdminError, create_staff
from services.identity.models import Company, User


def test_create_staff(session):
    user_id = create_staff("Ops.Lead", "Staff-password-1", email="ops@reseller.example",
                           session=session)
    user = session.get(User, user_id)
    assert user.is_staff and user.company_id is None and user.username == "ops.lead"
    assert domain.login(session, "ops.lead", "Staff-password-1").id == user_id
    with pytest.raises(AdminError, match="already exists"):
        create_staff("ops.lead", "Staff-password-2", session=session)
    with pytest.raises(AdminError, match="at least"):
        create_staff("ops.other", "short", session=session)


def test_create_staff_on_the_configured_database(tmp_path, monkeypatch):
    from tests.support.databases import migrated_database
    url, drop = migrated_database("identity", tmp_path)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", url)
    try:
        assert create_staff("ops.cli", "Staff-password-1") > 0
        with pytest.raises(AdminError):
            create_staff("ops.cli", "Staff-password-1")
    finally:
        drop()


def test_demo_seed_is_idempotent(session):
    first = demo.seed(session)
    second = demo.seed(session)
    assert first == second
    assert set(first["users"]) == {"demo.admin", "demo.buyer", "demo.approver", "demo.finance",
                                   "staff"}
    assert session.scalar(select(func.count()).select_from(Company)) == 1
    company = session.get(Company, first["company_id"])
    assert (company.name, company.customer_number, company.currency) == \
        ("Northwind Traders", "100200", "CAD")


def test_demo_users_log_in_with_their_rights(session):
    demo.seed(session)
    admin = domain.caller_context(session, domain.login(session, "demo.admin", demo.DEMO_PASSWORD))
    assert set(admin.roles) == {"security_admin", "catalog_admin", "pas_admin", "slt_admin",
                                "eprocurement_admin"}
    approver = domain.login(session, "demo.approver", demo.DEMO_PASSWORD)
    assert [g.key for g in domain.user_groups(session, approver.id)] == ["power_users"]
    finance = domain.caller_context(session, domain.login(session, "demo.finance",
                                                          demo.DEMO_PASSWORD))
    assert "payment_reports" in finance.features
    buyer = domain.caller_context(session, domain.login(session, "demo.buyer", demo.DEMO_PASSWORD))
    assert buyer.roles == [] and buyer.company_id == admin.company_id
    staff = domain.caller_context(session, domain.login(session, "staff", demo.DEMO_PASSWORD))
    assert staff.staff and staff.company_id is None
    with pytest.raises(Unauthorized):
        domain.login(session, "demo.buyer", "wrong-password")
