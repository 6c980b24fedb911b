"""Companies, standard and custom groups, users and their rights as their replies show them,
and tenant isolation."""
import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Conflict, Invalid, NotFound
from services.identity.domain import companies, company_users, directory, groups
from services.common.roles import FEATURES, ROLES
from services.identity.models import Group
from services.identity.schemas import (BillingAccountSchema, CompanyCreatedSchema,
                                       CompanyListSchema, CompanySchema, CompanyUserSchema, GroupSchema,
                                       PersonSchema)
from tests.unit.identity.support import events

USER = CompanyUserSchema()


def user_reply(session, ctx, user_id):
    return USER.dump(company_users.get_user(session, ctx, user_id))


def test_new_company_has_the_standard_groups_and_an_administrator(session, company):
    standard = session.scalars(select(Group).where(Group.company_id == company.id)).all()
    assert {g.key for g in standard} == {"administrators", "power_users", "users",
                                         "finance_users"}
    assert all(g.standard for g in standard)
    admin = user_reply(session, company.admin_ctx(), company.admin_id)
    assert [g["key"] for g in admin["groups"]] == ["administrators"]
    assert admin["effective"]["roles"] == sorted(ROLES)
    assert admin["effective"]["features"] == sorted(FEATURES)
    assert admin["roles"] == [] and admin["locked"] is False
    [created] = events(session, "user_created")
    assert created["user_id"] == company.admin_id and created["set_password_token"]
    reply = CompanySchema().dump(companies.get_company(session, company.admin_ctx()))
    assert reply["currency"] == "CAD" and reply["customer_number"] == "100"
    assert reply["billing_accounts"] == [{"id": reply["billing_accounts"][0]["id"],
                                          "account_number": "100", "name": "Acme",
                                          "primary": True, "company_id": company.id}]


def test_company_created_reply(session):
    made = companies.create_company(session, {
        "name": "Initech", "customer_number": "300", "currency": "usd",
        "admin": {"username": "peter", "email": "peter@initech.example", "first_name": "P",
                  "last_name": "Gibbons"},
        "addresses": [{"kind": "shipping", "name": "HQ", "line1": "1 Main", "city": "Austin",
                       "country": "US"}]})
    assert CompanyCreatedSchema().dump(made) == {
        "id": made.company.id, "name": "Initech", "customer_number": "300", "currency": "USD",
        "admin_user_id": made.admin.id}
    [address] = CompanySchema().dump(made.company)["addresses"]
    assert (address["city"], address["line2"]) == ("Austin", None)


def test_customer_number_and_username_are_unique(session, company):
    data = {"name": "Again", "customer_number": "100", "currency": "CAD",
            "admin": {"username": "someone", "email": "a@b.example", "first_name": "A",
                      "last_name": "B"}}
    with pytest.raises(Conflict) as exc:
        companies.create_company(session, data)
    assert exc.value.code == "customer_number_taken"
    data.update(customer_number="101", admin=dict(data["admin"], username="ADMIN100"))
    with pytest.raises(Conflict) as exc:
        companies.create_company(session, data)
    assert exc.value.code == "username_taken"


def test_standard_groups_cannot_be_deleted(session, company):
    admin = company.admin_ctx()
    rows, _ = groups.list_groups(session, admin)
    for group in rows:
        with pytest.raises(Conflict) as exc:
            groups.delete_group(session, admin, group.id)
        assert exc.value.code == "standard_group"


def test_custom_groups(session, company):
    admin = company.admin_ctx()
    group = groups.create_group(session, admin, {"name": "Buyers East", "features": ["quotes"],
                                                 "catalog_ids": [3]})
    reply = GroupSchema().dump(group)
    assert reply == {"id": group.id, "key": None, "name": "Buyers East", "standard": False,
                     "roles": [], "features": ["quotes"], "catalog_ids": [3],
                     "member_count": 0}
    with pytest.raises(Conflict):
        groups.create_group(session, admin, {"name": "buyers east"})
    with pytest.raises(Conflict):
        groups.create_group(session, admin, {"name": "Other", "key": "users"})
    bob = company.add_user("bob", groups=[group.id])
    updated = GroupSchema().dump(groups.update_group(session, admin, group.id,
                                                     {"name": "Buyers West"}))
    assert updated["name"] == "Buyers West" and updated["member_count"] == 1
    groups.delete_group(session, admin, group.id)
    assert user_reply(session, admin, bob.id)["groups"] == []
    assert [e["user_id"] for e in events(session, "access_revoked")] == [bob.id]


def test_rights_are_the_union_of_own_and_group_rights(session, company):
    admin = company.admin_ctx()
    group = groups.create_group(session, admin, {"name": "Catalogs",
                                                 "roles": ["catalog_admin"],
                                                 "catalog_ids": [1, 2]})
    bob = company.add_user("bob", groups=["finance_users", group.id],
                           roles=["pas_admin"], features=["quotes"], catalog_ids=[2, 5])
    reply = user_reply(session, admin, bob.id)
    assert reply["roles"] == ["pas_admin"] and reply["catalog_ids"] == [2, 5]
    assert reply["effective"] == {
        "roles": ["catalog_admin", "pas_admin"],
        "features": ["linked_accounts", "order_reports", "payment_reports", "quotes"],
        "catalog_ids": [1, 2, 5]}
    ctx = company.ctx_of(bob)
    assert ctx.roles == ["catalog_admin", "pas_admin"] and ctx.catalog_ids == [1, 2, 5]
    # replacing one kind of grant leaves the others
    company_users.update_user(session, admin, bob.id, {"roles": []})
    reply = user_reply(session, admin, bob.id)
    assert reply["roles"] == [] and reply["features"] == ["quotes"]


def test_new_user_defaults_to_the_users_group(session, company):
    user = company_users.create_user(session, company.admin_ctx(), {
        "username": "plain", "email": "p@example.com", "first_name": "P", "last_name": "Q"})
    assert [g["key"] for g in USER.dump(user)["groups"]] == ["users"]


def test_another_company_is_not_found(session, company, other_company):
    admin = company.admin_ctx()
    stranger = other_company.add_user("stranger")
    with pytest.raises(NotFound):
        company_users.get_user(session, admin, stranger.id)
    with pytest.raises(NotFound):
        company_users.update_user(session, admin, stranger.id, {"status": "disabled"})
    theirs = groups.list_groups(session, other_company.admin_ctx())[0][0].id
    with pytest.raises(NotFound):
        groups.update_group(session, admin, theirs, {"name": "Mine"})
    with pytest.raises(NotFound):
        groups.delete_group(session, admin, theirs)
    with pytest.raises(Invalid) as exc:
        company.add_user("bob", groups=[theirs])
    assert exc.value.code == "unknown_group"
    usernames = [u.username for u in company_users.list_users(session, admin)[0]]
    assert "stranger" not in usernames and "admin200" not in usernames
    assert directory.people(session, admin, user_ids=[stranger.id]) == []


def test_cannot_disable_yourself(session, company):
    with pytest.raises(Conflict) as exc:
        company_users.update_user(session, company.admin_ctx(), company.admin_id,
                                  {"status": "disabled"})
    assert exc.value.code == "cannot_disable_self"


def test_username_cannot_change(session, company):
    bob = company.add_user("bob")
    with pytest.raises(Invalid):
        company_users.update_user(session, company.admin_ctx(), bob.id, {"username": "robert"})


def test_list_users_pages_and_searches(session, company):
    for i in range(5):
        company.add_user(f"user{i}")
    admin = company.admin_ctx()
    first, cursor = company_users.list_users(session, admin, limit=4)
    second, end = company_users.list_users(session, admin, limit=4, cursor=cursor)
    names = [u.username for u in first + second]
    assert len(names) == 6 and len(set(names)) == 6 and end is None
    found, _ = company_users.list_users(session, admin, q="USER3")
    assert [u.username for u in found] == ["user3"]
    for cursor in ("abc", "-1", str(2 ** 64)):
        with pytest.raises(Invalid) as exc:
            company_users.list_users(session, admin, cursor=cursor)
        assert exc.value.code == "invalid_cursor"


def test_link_billing_account(session, company):
    staff = CallerContext(staff=True)
    account = companies.link_billing_account(session, company.id, {"account_number": "100-B",
                                                                   "name": "Branch"})
    reply = BillingAccountSchema().dump(account)
    assert reply["company_id"] == company.id and reply["primary"] is False
    with pytest.raises(Conflict):
        companies.link_billing_account(session, company.id, {"account_number": "100-B",
                                                             "name": "x"})
    with pytest.raises(NotFound):
        companies.link_billing_account(session, 999999, {"account_number": "X1", "name": "x"})
    assert [b.account_number for b in
            companies.get_company(session, staff, company.id).billing_accounts] == \
        ["100", "100-B"]


def test_staff_list_companies_newest_first_and_find_them(session, company, other_company):
    company.add_user("bob")
    companies.link_billing_account(session, other_company.id, {"account_number": "GX-77",
                                                               "name": "Branch"})
    found, cursor = companies.list_companies(session)
    assert [(c.company.name, c.user_count) for c in found] == [("Globex", 1), ("Acme", 2)]
    assert cursor is None
    page, cursor = companies.list_companies(session, limit=1)
    assert [c.company.name for c in page] == ["Globex"]
    assert [c.company.name for c in companies.list_companies(session, limit=1, cursor=cursor)[0]] == ["Acme"]
    for q, names in (("acm", ["Acme"]), ("200", ["Globex"]), ("gx-7", ["Globex"]), ("zzz", [])):
        assert [c.company.name for c in companies.list_companies(session, q)[0]] == names, q
    reply = CompanyListSchema().dump({"items": found, "next_cursor": None})
    assert reply["items"][1] == {"id": company.id, "name": "Acme", "customer_number": "100",
                                 "currency": "CAD", "user_count": 2,
                                 "created_at": reply["items"][1]["created_at"]}


def test_staff_read_the_users_of_a_company(session, company, other_company):
    company.add_user("bob")
    users, _ = company_users.users_of_company(session, company.id)
    assert {u.username for u in users} == {"admin100", "bob"}
    assert [u.username for u in company_users.users_of_company(session, other_company.id, q="ADMIN")[0]] == ["admin200"]


def test_favorites_as_the_home_page_is_a_company_setting(session, company, other_company):
    admin = company.admin_ctx()
    assert CompanySchema().dump(companies.get_company(session, admin))["favorites_home"] is False
    companies.update_settings(session, admin, {"favorites_home": True})
    assert CompanySchema().dump(companies.get_company(session, admin))["favorites_home"] is True
    assert companies.get_company(session, other_company.admin_ctx()).favorites_home is False
    with pytest.raises(NotFound):
        companies.update_settings(session, CallerContext(staff=True), {"favorites_home": True})


def test_get_company_needs_a_company(session, company):
    with pytest.raises(NotFound):
        companies.get_company(session, CallerContext(staff=True))


def test_people_resolves_groups_to_active_members(session, company):
    admin = company.admin_ctx()
    approver = company.add_user("approver", groups=["power_users"])
    gone = company.add_user("gone", groups=["power_users"])
    company_users.update_user(session, admin, gone.id, {"status": "disabled"})
    power = groups.resolve_groups(session, company.id, ["power_users"])[0]
    assert PersonSchema(many=True).dump(directory.people(session, admin,
                                                         group_ids=[power.id])) == [
        {"user_id": approver.id, "email": "approver@example.com", "name": "Uma User",
         "locale": "en"}]
    assert directory.group_ids_of(session, admin, approver.id) == [power.id]
    holders = directory.people_with_role(session, admin, "pas_admin")
    assert [u.id for u in holders] == [company.admin_id]
