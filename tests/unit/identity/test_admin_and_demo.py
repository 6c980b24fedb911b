"""`procura create-staff`, the demo data, and the local development mark that keeps demo
logins (and keys made on first use) out of any database `make run` did not create."""
import pytest
from sqlalchemy import func, select

from services.common.errors import Unauthorized
from services.identity import demo, local_development
from services.identity.admin import AdminError, create_staff
from services.identity.domain import auth, tokens
from services.identity.models import Company, User


def test_create_staff(session):
    user_id = create_staff("Ops.Lead", "Staff-password-1", email="ops@reseller.example",
                           session=session)
    user = session.get(User, user_id)
    assert user.is_staff and user.company_id is None and user.username == "ops.lead"
    assert auth.login(session, "ops.lead", "Staff-password-1").id == user_id
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

    def ctx(username):
        return tokens.caller_context(session, auth.login(session, username, demo.DEMO_PASSWORD))
    admin = ctx("demo.admin")
    assert set(admin.roles) == {"security_admin", "catalog_admin", "pas_admin", "slt_admin",
                                "eprocurement_admin"}
    approver = auth.login(session, "demo.approver", demo.DEMO_PASSWORD)
    assert [g.key for g in approver.groups] == ["power_users"]
    assert "payment_reports" in ctx("demo.finance").features
    buyer = ctx("demo.buyer")
    assert buyer.roles == [] and buyer.company_id == admin.company_id
    staff = ctx("staff")
    assert staff.staff and staff.company_id is None
    with pytest.raises(Unauthorized):
        auth.login(session, "demo.buyer", "wrong-password")


def test_a_new_database_is_marked_for_local_development_by_make_run(session):
    assert not local_development.is_local(session)
    with pytest.raises(local_development.NotLocalDevelopment):
        local_development.require(session, "demo logins are loaded")
    local_development.mark_new_database(session)  # `procura migrate --local-development`
    assert local_development.is_local(session)
    local_development.require(session, "demo logins are loaded")


def test_a_database_with_accounts_is_not_marked_unless_it_holds_the_demo(session, company):
    with pytest.raises(local_development.NotLocalDevelopment, match="not created by `make run`"):
        local_development.mark_new_database(session)
    assert not local_development.is_local(session)


def test_loading_the_demo_marks_the_database(session):
    demo.seed(session)
    assert local_development.is_local(session)


@pytest.fixture
def identity_url(tmp_path, monkeypatch):
    from tests.support.databases import migrated_database
    url, drop = migrated_database("identity", tmp_path)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", url)
    monkeypatch.setenv("PROCURA_VAR", str(tmp_path / "var"))
    yield url
    drop()


def test_seed_demo_refuses_a_database_make_run_did_not_create(identity_url, capsys):
    from services import demo as seed_demo
    with pytest.raises(SystemExit) as exc:
        seed_demo.seed(products=0)
    assert "--i-know" in str(exc.value) and "make run" in str(exc.value)
    from services.common.engines import open_session
    from services.identity.models import Base
    with open_session("identity", Base, identity_url) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
        local_development.mark_new_database(session)
        session.commit()
    seed_demo.refuse_unless_local_development()  # now it may run
