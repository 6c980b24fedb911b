"""Companies, standard and custom groups, users and their rights, and tenant isolation."""
import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Conflict, Invalid, NotFound
from services.identity import domain
from services.identity.grants import FEATURES, ROLES
from services.identity.models import Group
from tests.unit.identity.support import events


def test_new_company_has_the_standard_groups_and_an_administrator(session, company):
    groups = session.scalars(select(Group).where(Group.company_id == company.id)).all()
    assert {g.key for g in groups} == {"administrators", "power_users", "users", "finance_users"}
    assert all(g.standard for g in groups)
    admin = domain.get_user(session, company.admin_ctx(), company.admin_id)
    assert [g["key"] for g in admin["groups"]] == ["administrators"]
    assert admin["effective"]["roles"] == sorted(ROLES)
    assert admin["effective"]["features"] == sorted(FEATURES)
    [created] = events(session, "user_created")
    assert created["user_id"] == company.admin_id and created["set_password_token"]
    view = domain.get_company(session, company.admin_ctx())
    assert view["currency"] == "CAD" and view["customer_number"] == "100"
    assert view["billing_accounts"][0]["account_number"] == "100"


def test_customer_number_and_username_are_unique(session, company):
    data = {"name": "Again", "customer_number": "100", "currency": "CAD",
            "admin": {"username": "someone", "email": "a@b.example", "first_name": "A",
                      "last_name": "B"}}
    with pytest.raises(Conflict) as exc:
        domain.create_company(session, data)
    assert exc.value.code == "customer_number_taken"
    data.update(customer_number="101", admin=dict(data["admin"], username="ADMIN100"))
    with pytest.raises(Conflict) as exc:
        domain.create_company(session, data)
    assert exc.value.code == "username_taken"


def test_standard_groups_cannot_be_deleted(session, company):
    admin = company.admin_ctx()
    for group in domain.list_groups(session, admin)["items"]:
        with pytest.raises(Conflict) as exc:
            domain.delete_group(session, admin, group["id"])
        assert exc.value.code == "standard_group"


def test_custom_groups(session, company):
    admin = company.admin_ctx()
    group = domain.create_group(session, admin, {"name": "Buyers East", "features": ["quotes"],
                                                 "catalog_ids": [3]})
    assert group["standard"] is False and group["key"] is None
    with pytest.raises(Conflict):
        domain.create_group(session, admin, {"name": "buyers east"})
    with pytest.raises(Conflict):
        domain.create_group(session, admin, {"name": "Other", "key": "users"})
    bob = company.add_user("bob", groups=[group["id"]])
    updated = domain.update_group(session, admin, group["id"], {"name": "Buyers West"})
    assert updated["name"] == "Buyers West" and updated["member_count"] == 1
    domain.delete_group(session, admin, group["id"])
    assert domain.get_user(session, admin, bob.id)["groups"] == []
    assert [e["user_id"] for e in events(session, "access_revoked")] == [bob.id]


def test_rights_are_the_union_of_own_and_group_rights(session, company):
    admin = company.admin_ctx()
    group = domain.create_group(session, admin, {"name": "Catalogs", "roles": ["catalog_admin"],
                                                 "catalog_ids": [1, 2]})
    bob = company.add_user("bob", groups=["finance_users", group["id"]],
                           roles=["pas_admin"], features=["quotes"], catalog_ids=[2, 5])
    view = domain.get_user(session, admin, bob.id)
    assert view["roles"] == ["pas_admin"] and view["catalog_ids"] == [2, 5]
    assert view["effective"] == {
        "roles": ["catalog_admin", "pas_admin"],
        "features": ["linked_accounts", "order_reports", "payment_reports", "quotes"],
        "catalog_ids": [1, 2, 5]}
    ctx = company.ctx_of(bob)
    assert ctx.roles == ["catalog_admin", "pas_admin"] and ctx.catalog_ids == [1, 2, 5]


def test_new_user_defaults_to_the_users_group(session, company):
    view = domain.create_user(session, company.admin_ctx(), {
        "username": "plain", "email": "p@example.com", "first_name": "P", "last_name": "Q"})
    assert [g["key"] for g in view["groups"]] == ["users"]


def test_another_company_is_not_found(session, company, other_company):
    admin = company.admin_ctx()
    stranger = other_company.add_user("stranger")
    with pytest.raises(NotFound):
        domain.get_user(session, admin, stranger.id)
    with pytest.raises(NotFound):
        domain.update_user(session, admin, stranger.id, {"status": "disabled"})
    theirs = domain.list_groups(session, other_company.admin_ctx())["items"][0]["id"]
    with pytest.raises(NotFound):
        domain.update_group(session, admin, theirs, {"name": "Mine"})
    with pytest.raises(NotFound):
        domain.delete_group(session, admin, theirs)
    with pytest.raises(Invalid) as exc:
        company.add_user("bob", groups=[theirs])
    assert exc.value.code == "unknown_group"
    usernames = [u["username"] for u in domain.list_users(session, admin)["items"]]
    assert "stranger" not in usernames and "admin200" not in usernames
    assert domain.people(session, admin, user_ids=[stranger.id]) == []


def test_cannot_disable_yourself(session, company):
    with pytest.raises(Conflict) as exc:
        domain.update_user(session, company.admin_ctx(), company.admin_id, {"status": "disabled"})
    assert exc.value.code == "cannot_disable_self"


def test_username_cannot_change(session, company):
    bob = company.add_user("bob")
    with pytest.raises(Invalid):
        domain.update_user(session, company.admin_ctx(), bob.id, {"username": "robert"})


def test_list_users_pages_and_searches(session, company):
    for i in range(5):
        company.add_user(f"user{i}")
    admin = company.admin_ctx()
    first = domain.list_users(session, admin, limit=4)
    second = domain.list_users(session, admin, limit=4, cursor=first["next_cursor"])
    names = [u["username"] for u in first["items"] + second["items"]]
    assert len(names) == 6 and len(set(names)) == 6 and second["next_cursor"] is None
    found = domain.list_users(session, admin, q="USER3")["items"]
    assert [u["username"] for u in found] == ["user3"]
    with pytest.raises(Invalid):
        domain.list_users(session, admin, cursor="abc")


def test_link_billing_account(session, company):
    staff = CallerContext(staff=True)
    account = domain.link_billing_account(session, company.id, {"account_number": "100-B",
                                                                "name": "Branch"})
    assert account["company_id"] == company.id and account["primary"] is False
    with pytest.raises(Conflict):
        domain.link_billing_account(session, company.id, {"account_number": "100-B", "name": "x"})
    with pytest.raises(NotFound):
        domain.link_billing_account(session, 999999, {"account_number": "X1", "name": "x"})
    assert [b["account_number"] for b in
            domain.get_company(session, staff, company.id)["billing_accounts"]] == ["100", "100-B"]


def test_get_company_needs_a_company(session, company):
    with pytest.raises(NotFound):
        domain.get_company(session, CallerContext(staff=True))


def test_people_resolves_groups_to_active_members(session, company):
    admin = company.admin_ctx()
    approver = company.add_user("approver", groups=["power_users"])
    gone = company.add_user("gone", groups=["power_users"])
    domain.update_user(session, admin, gone.id, {"status": "disabled"})
    power = domain.resolve_groups(session, company.id, ["power_users"])[0]
    assert domain.people(session, admin, group_ids=[power.id]) == [
        {"user_id": approver.id, "email": "approver@example.com", "name": "Uma User",
         "locale": "en"}]
