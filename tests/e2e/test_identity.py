"""Identity and access over HTTP, on the whole system: a lockout that reveals nothing
without the right password, unlock, disabling, password expiry, reset links, a password
change or reset refusing every earlier token at once, a new email address confirmed from its
link, username recovery, refresh-token rotation and reuse detection, rights changes reaching
existing tokens, the read-only username, email preferences and the login rate limit."""
import email
import re
import uuid
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
import requests

from tests.support.system import bearer, login
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Identity-e2e-2026!"
LINK = re.compile(r"/(set-password|reset-password|confirm-email)\?token=([A-Za-z0-9_\-]+)")


# ---------------------------------------------------------------- helpers

class Mailbox:
    """The mail sink's folder, each message parsed once: (to, subject, plain text)."""

    def __init__(self, system):
        self.system = system
        self.parsed = {}

    def messages(self):
        for path in self.system.mails():
            if path not in self.parsed:
                msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                self.parsed[path] = (str(msg["To"]), str(msg["Subject"]),
                                     msg.get_body(preferencelist=("plain",)).get_content())
            yield self.parsed[path]

    def wait(self, predicate, timeout=20):
        return wait_for(lambda: next((m for m in self.messages() if predicate(*m)), None),
                        timeout=timeout, interval=0.1, message="such an email")

    def token(self, to, kind, contains=None, known=()):
        """The token of a `kind` link (set-password, reset-password) mailed to `to`, not
        one of `known`."""
        def fresh(address, subject, text):
            if to not in address or (contains and contains not in text):
                return False
            return any(k == kind and t not in known for k, t in LINK.findall(text))
        _, _, text = self.wait(fresh)
        return next(t for k, t in LINK.findall(text) if k == kind and t not in known)


def suffix():
    return uuid.uuid4().hex[:8]


def post(system, path, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(system.api + path, json=body, headers=headers, timeout=30)


def reset(system, token, password=PASSWORD):
    return post(system, "/auth/reset-password", {"token": token, "new_password": password})


def wait_status(fn, status, timeout=20.0):
    """`fn()` (a response) once it has `status`."""
    def reply():
        r = fn()
        return [r] if r.status_code == status else None  # a 4xx response is falsy
    return wait_for(reply, timeout=timeout, interval=0.1, message=f"a {status} reply")[0]


def identity_session(system):
    from services.common.engines import open_session
    from services.identity.models import Base
    return open_session("identity", Base, system.env["IDENTITY_DATABASE_URL"])


def in_identity_db(system, *statements):
    session = identity_session(system)
    try:
        for statement in statements:
            session.execute(statement)
        session.commit()
    finally:
        session.close()
        session.get_bind().dispose()


def naive_utc_now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def mailbox(system):
    return Mailbox(system)


@pytest.fixture(scope="module")
def company(system, staff):
    return system.new_company(staff, "Fabrikam", password=PASSWORD)


# ---------------------------------------------------------------- lockout

def test_five_failed_logins_lock_the_account_until_a_security_admin_unlocks_it(
        system, company, mailbox):
    user = company.add_user()
    unknown = login(system.api, f"ghost.{suffix()}", "Wrong-password-1")
    for _ in range(5):
        r = login(system.api, user["username"], "Wrong-password-1")
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    # locked now: a wrong password still answers exactly as for an unknown account
    r = login(system.api, user["username"], "Wrong-password-1")
    assert (r.status_code, r.json()) == (unknown.status_code, unknown.json())
    # only the right password learns that the account is locked, and is refused
    r = login(system.api, user["username"], PASSWORD)
    assert r.status_code == 423 and r.json()["code"] == "account_locked"
    view = company.admin.get(system.api + f"/company/users/{user['id']}").json()
    assert view["locked"] is True and view["locked_at"]
    mailbox.wait(lambda to, subject, text: user["email"] in to and "locked" in subject.lower())

    r = company.patch_user(user["id"], {"unlock": True})
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is False
    assert login(system.api, user["username"], PASSWORD).status_code == 200


def test_a_password_reset_unlocks_a_locked_account(system, company, mailbox):
    user = company.add_user()
    statuses = [login(system.api, user["username"], "Wrong-password-2").status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 401]
    assert login(system.api, user["username"], PASSWORD).status_code == 423

    assert post(system, "/auth/forgot-password", {"username": user["username"]}).status_code == 202
    token = mailbox.token(user["email"], "reset-password")
    assert reset(system, token, "Fresh-password-2026").status_code == 204
    assert login(system.api, user["username"], PASSWORD).status_code == 401  # the old password is gone
    r = login(system.api, user["username"], "Fresh-password-2026")
    assert r.status_code == 200, r.text
    assert company.admin.get(system.api + f"/company/users/{user['id']}").json()["locked"] is False


# ---------------------------------------------------------------- disabling

def test_a_disabled_user_cannot_log_in_and_loses_every_token(system, company):
    user = company.add_user()
    pair = login(system.api, user["username"], PASSWORD).json()
    me = bearer(pair["access_token"])
    assert me.get(system.api + "/me").status_code == 200

    r = company.patch_user(user["id"], {"status": "disabled"})
    assert r.status_code == 200 and r.json()["status"] == "disabled"

    r = login(system.api, user["username"], PASSWORD)
    assert r.status_code == 403 and r.json()["code"] == "account_disabled"
    # a wrong password says nothing about the account's state
    assert login(system.api, user["username"], "Not-the-password-1").status_code == 401
    r = post(system, "/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert r.status_code in (401, 403), r.text
    # the access token the gateway verifies locally is refused once the revocation arrives
    r = wait_status(lambda: me.get(system.api + "/me"), 401)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert me.get(system.api + "/carts").status_code == 401

    assert company.patch_user(user["id"], {"status": "active"}).status_code == 200
    assert login(system.api, user["username"], PASSWORD).status_code == 200


def test_an_administrator_cannot_disable_themselves(system, company):
    r = company.patch_user(company.admin_id, {"status": "disabled"})
    assert r.status_code == 409 and r.json()["code"] == "cannot_disable_self"
    assert company.admin.get(system.api + "/me").status_code == 200


# ---------------------------------------------------------------- expiry

def test_a_year_without_login_requires_a_password_reset(system, company, mailbox):
    from sqlalchemy import update

    from services.identity.models import User
    user = company.add_user()
    assert login(system.api, user["username"], PASSWORD).status_code == 200
    long_ago = naive_utc_now() - timedelta(days=366)
    in_identity_db(system, update(User).where(User.id == user["id"]).values(
        last_login_at=long_ago, password_changed_at=long_ago - timedelta(days=30)))

    assert login(system.api, user["username"], "Not-the-password-1").status_code == 401
    r = login(system.api, user["username"], PASSWORD)
    assert r.status_code == 403 and r.json()["code"] == "password_expired"

    post(system, "/auth/forgot-password", {"username": user["username"]})
    token = mailbox.token(user["email"], "reset-password")
    assert reset(system, token, "Renewed-password-2026").status_code == 204
    r = login(system.api, user["username"], "Renewed-password-2026")
    assert r.status_code == 200, r.text
    last = datetime.fromisoformat(r.json()["user"]["last_login_at"].rstrip("Z"))
    assert naive_utc_now() - last < timedelta(minutes=5)


# ---------------------------------------------------------------- reset links

def test_reset_links_are_single_use_and_expire(system, company, mailbox):
    from sqlalchemy import update

    from services.identity.domain.accounts import digest
    from services.identity.models import ResetToken
    user = company.add_user()
    old_pair = login(system.api, user["username"], PASSWORD).json()
    set_token = mailbox.token(user["email"], "set-password", contains=user["username"])

    r = reset(system, "not-a-token-at-all")
    assert r.status_code == 410 and r.json()["code"] == "token_invalid"
    # the set-password link has been used
    r = reset(system, set_token)
    assert r.status_code == 410 and r.json()["code"] == "token_used"

    post(system, "/auth/forgot-password", {"username": user["username"]})
    first = mailbox.token(user["email"], "reset-password")
    post(system, "/auth/forgot-password", {"username": user["username"]})
    second = mailbox.token(user["email"], "reset-password", known={first})
    # a newer link replaces the older one
    r = reset(system, first, "Another-password-1")
    assert r.status_code == 410 and r.json()["code"] == "token_expired"

    r = reset(system, second, "short")
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    assert reset(system, second, "Second-password-2026").status_code == 204
    r = reset(system, second, "Third-password-2026")
    assert r.status_code == 410 and r.json()["code"] == "token_used"
    # a reset ends the sessions opened with the old password
    r = post(system, "/auth/refresh", {"refresh_token": old_pair["refresh_token"]})
    assert r.status_code == 401
    assert login(system.api, user["username"], "Second-password-2026").status_code == 200

    # a link older than 24 hours
    post(system, "/auth/forgot-password", {"username": user["username"]})
    third = mailbox.token(user["email"], "reset-password", known={first, second})
    past = naive_utc_now() - timedelta(hours=1)
    in_identity_db(system, update(ResetToken).where(ResetToken.token_hash == digest(third))
                   .values(created_at=past - timedelta(hours=24), expires_at=past))
    r = reset(system, third, "Fourth-password-2026")
    assert r.status_code == 410 and r.json()["code"] == "token_expired"
    assert login(system.api, user["username"], "Second-password-2026").status_code == 200


# ---------------------------------------------------------------- password changes

@pytest.mark.parametrize("how", ["change", "reset"])
def test_a_new_password_refuses_every_earlier_token_at_once(system, company, mailbox, how):
    user = company.add_user()
    first = login(system.api, user["username"], PASSWORD).json()
    second = login(system.api, user["username"], PASSWORD).json()
    old = bearer(first["access_token"])
    assert old.get(system.api + "/me").status_code == 200
    if how == "change":
        r = old.post(system.api + "/me/password", json={"current_password": PASSWORD,
                                                        "new_password": "Changed-password-2026"})
    else:
        post(system, "/auth/forgot-password", {"username": user["username"]})
        r = reset(system, mailbox.token(user["email"], "reset-password"),
                  "Changed-password-2026")
    assert r.status_code == 204, r.text
    # right after the reply, with no waiting: every access token issued before is refused
    for pair in (first, second):
        r = bearer(pair["access_token"]).get(system.api + "/me")
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
        r = post(system, "/auth/refresh", {"refresh_token": pair["refresh_token"]})
        assert r.status_code == 401
    fresh = login(system.api, user["username"], "Changed-password-2026")
    assert fresh.status_code == 200, fresh.text
    assert bearer(fresh.json()["access_token"]).get(system.api + "/me").status_code == 200


# ---------------------------------------------------------------- a new email address

def test_a_new_email_address_needs_the_password_and_its_confirmation(system, company, mailbox):
    user = company.add_user()
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    new_address = f"moved.{suffix()}@example.test"
    r = s.patch(system.api + "/me", json={"email": new_address})
    assert r.status_code == 422 and r.json()["code"] == "current_password_required"
    r = s.patch(system.api + "/me", json={"email": new_address,
                                          "current_password": "Not-the-password-1"})
    assert r.status_code == 422 and r.json()["code"] == "wrong_password"
    r = s.patch(system.api + "/me", json={"email": new_address, "current_password": PASSWORD})
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["pending_email"]) == (user["email"], new_address)
    # the old address is told, and nothing of the link reaches it
    _, _, notice = mailbox.wait(lambda to, subject, text: user["email"] in to and
                                new_address in text)
    assert "token=" not in notice
    token = mailbox.token(new_address, "confirm-email")
    assert s.get(system.api + "/me").json()["email"] == user["email"]
    r = post(system, "/auth/confirm-email", {"token": token})
    assert r.status_code == 204, r.text
    me = s.get(system.api + "/me").json()
    assert (me["email"], me["pending_email"]) == (new_address, None)
    r = post(system, "/auth/confirm-email", {"token": token})
    assert r.status_code == 410 and r.json()["code"] == "token_used"
    # the reset links now go to the new address
    post(system, "/auth/forgot-password", {"username": user["username"]})
    assert mailbox.token(new_address, "reset-password")


def test_unknown_accounts_get_the_same_replies(system, company):
    ghost = f"ghost.{suffix()}"
    assert post(system, "/auth/forgot-password", {"username": ghost}).status_code == 202
    assert post(system, "/auth/forgot-username",
                {"email": f"{ghost}@nowhere.test"}).status_code == 202
    unknown = login(system.api, ghost, "Whatever-password-1")
    user = company.add_user()
    wrong = login(system.api, user["username"], "Whatever-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["code"] == wrong.json()["code"] == "invalid_credentials"
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_username_recovery_emails_every_username_of_the_address(system, company, mailbox):
    shared = f"shared.{suffix()}@example.test"
    one, two = company.add_users({"email": shared}, {"email": shared})
    r = post(system, "/auth/forgot-username", {"email": shared.upper()})
    assert r.status_code == 202 and not r.content
    _, subject, text = mailbox.wait(
        lambda to, subject, text: shared in to and "username" in subject.lower())
    assert one["username"] in text and two["username"] in text
    assert "token=" not in text


# ---------------------------------------------------------------- refresh tokens

def test_refresh_rotates_and_reuse_revokes_the_whole_family(system, company):
    user = company.add_user()
    first = login(system.api, user["username"], PASSWORD).json()
    r = post(system, "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert bearer(second["access_token"]).get(system.api + "/me").json()["id"] == user["id"]

    other_login = login(system.api, user["username"], PASSWORD).json()

    # the rotated token comes back: someone holds a copy, so the family is revoked
    r = post(system, "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.json()["code"] == "refresh_token_revoked"
    r = post(system, "/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert r.status_code == 401 and r.json()["code"] == "refresh_token_revoked"

    # another login of the same user is another family
    r = post(system, "/auth/refresh", {"refresh_token": other_login["refresh_token"]})
    assert r.status_code == 200, r.text
    latest = r.json()["refresh_token"]
    r = requests.post(system.api + "/auth/logout", json={"refresh_token": latest})
    assert r.status_code == 204
    r = post(system, "/auth/refresh", {"refresh_token": latest})
    assert r.status_code == 401
    r = post(system, "/auth/refresh", {"refresh_token": "never-issued"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"


# ---------------------------------------------------------------- rights

def test_a_rights_change_reaches_existing_tokens_at_once(system, company):
    user, marker = company.add_users({"groups": ["users"]}, {"groups": ["users"]})
    token = login(system.api, user["username"], PASSWORD).json()["access_token"]
    s = bearer(token)
    assert s.get(system.api + "/catalogs").status_code == 403

    r = company.patch_user(user["id"], {"roles": ["catalog_admin"]})
    assert r.status_code == 200 and r.json()["effective"]["roles"] == ["catalog_admin"]
    assert wait_status(lambda: s.get(system.api + "/me"), 401).status_code == 401
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    assert s.get(system.api + "/catalogs").status_code == 200
    assert s.get(system.api + "/me").json()["roles"] == ["catalog_admin"]

    # joining a group that grants nothing changes no rights: the token stays good
    group = company.admin.post(system.api + "/company/groups",
                               json={"name": f"Auditors {suffix()}"}).json()
    r = company.patch_user(user["id"], {"groups": ["users", group["id"]]})
    assert r.status_code == 200, r.text
    # a rights change of another user afterwards: once the gateway refuses that user's
    # token, it has heard every revocation identity published before it
    assert company.patch_user(marker["id"], {"roles": ["pas_admin"]}).status_code == 200
    wait_status(lambda: marker["session"].get(system.api + "/me"), 401)
    assert s.get(system.api + "/me").status_code == 200

    # a right given to the group reaches its members' tokens
    r = company.admin.patch(system.api + f"/company/groups/{group['id']}",
                            json={"roles": ["pas_admin"]})
    assert r.status_code == 200 and r.json()["member_count"] == 1
    assert wait_status(lambda: s.get(system.api + "/me"), 401).status_code == 401
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    assert s.get(system.api + "/me").json()["roles"] == ["catalog_admin", "pas_admin"]

    # and so does a right taken away
    assert company.patch_user(user["id"], {"roles": []}).status_code == 200
    assert wait_status(lambda: s.get(system.api + "/catalogs"), 401).status_code == 401
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    assert s.get(system.api + "/catalogs").status_code == 403


# ---------------------------------------------------------------- own account

def test_the_username_is_read_only(system, company):
    user = company.add_user()
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    r = s.patch(system.api + "/me", json={"username": "someone.else"})
    assert r.status_code == 422 and "username" in r.json()["errors"]
    r = s.patch(system.api + "/me", json={"username": user["username"], "first_name": "Zoé"})
    assert r.status_code == 422
    assert s.patch(system.api + "/me", json={"email": "not-an-address"}).status_code == 422

    r = s.patch(system.api + "/me", json={"first_name": "Zoé", "phone": "+1 514 555 0100",
                                          "locale": "fr"})
    assert r.status_code == 200, r.text
    me = s.get(system.api + "/me").json()
    assert (me["username"], me["first_name"], me["phone"], me["locale"]) == \
        (user["username"], "Zoé", "+1 514 555 0100", "fr")
    r = company.patch_user(user["id"], {"username": "renamed"})
    assert r.status_code == 422


def test_email_preferences(system, company):
    user = company.add_user()
    s = bearer(login(system.api, user["username"], PASSWORD).json()["access_token"])
    assert s.get(system.api + "/me/email-preferences").json() == \
        {"marketing": False, "order_updates": True, "report_deliveries": True}
    wanted = {"marketing": True, "order_updates": False, "report_deliveries": True}
    r = s.put(system.api + "/me/email-preferences", json=wanted)
    assert r.status_code == 200 and r.json() == wanted
    assert s.get(system.api + "/me/email-preferences").json() == wanted
    r = s.put(system.api + "/me/email-preferences", json={"marketing": False})
    assert r.status_code == 422
    assert s.get(system.api + "/me/email-preferences").json() == wanted
    # another user's preferences are their own
    other = company.add_user()
    o = bearer(login(system.api, other["username"], PASSWORD).json()["access_token"])
    assert o.get(system.api + "/me/email-preferences").json()["marketing"] is False


# ---------------------------------------------------------------- back office

def test_staff_find_a_company_and_read_its_users(system, staff, company):
    api = system.api
    company.add_user(groups=["finance_users"])
    name = company.admin.get(api + "/company").json()["name"]
    r = staff.get(api + "/backoffice/companies", params={"q": name.split()[-1].upper()})
    assert r.status_code == 200, r.text
    users = company.admin.get(api + "/company/users", params={"limit": 200}).json()["items"]
    assert [(c["id"], c["name"], c["user_count"]) for c in r.json()["items"]] == [
        (company.id, name, len(users))]
    newest = staff.get(api + "/backoffice/companies", params={"limit": 1}).json()
    assert len(newest["items"]) == 1 and newest["next_cursor"]
    r = staff.get(api + "/backoffice/companies", params={"limit": 1, "cursor": newest["next_cursor"]})
    assert r.status_code == 200 and r.json()["items"][0]["id"] < newest["items"][0]["id"]
    assert staff.get(api + "/backoffice/companies", params={"cursor": "x"}).status_code == 422

    r = staff.get(api + f"/backoffice/companies/{company.id}")
    assert r.status_code == 200 and r.json()["name"] == name and r.json()["billing_accounts"]
    seen = staff.get(api + f"/backoffice/companies/{company.id}/users", params={"limit": 200}).json()["items"]
    assert [(u["id"], u["username"]) for u in seen] == [(u["id"], u["username"]) for u in users]
    assert "finance_users" in {g["key"] for u in seen for g in u["groups"]}
    for path in ("", "/users"):
        assert staff.get(api + f"/backoffice/companies/987654321{path}").status_code == 404
        assert company.admin.get(api + f"/backoffice/companies/{company.id}{path}").status_code == 403
    assert company.admin.get(api + "/backoffice/companies").status_code == 403


def test_favorites_as_the_home_page_is_the_eprocurement_admins_choice(system, company):
    api = system.api
    assert company.admin.get(api + "/company").json()["favorites_home"] is False
    r = company.admin.patch(api + "/company", json={"favorites_home": True})
    assert r.status_code == 200 and r.json()["favorites_home"] is True, r.text
    buyer = company.add_user()
    s = system.session(buyer["username"], buyer["password"])
    assert s.get(api + "/company").json()["favorites_home"] is True  # everyone's home page
    assert s.patch(api + "/company", json={"favorites_home": False}).status_code == 403
    assert company.admin.patch(api + "/company", json={"favorites_home": "often"}).status_code == 422
    assert company.admin.patch(api + "/company", json={"name": "Renamed"}).status_code == 422
    assert company.admin.patch(api + "/company", json={"favorites_home": False}).json()["favorites_home"] is False


# ---------------------------------------------------------------- rate limit

def test_repeated_failed_logins_are_rate_limited_with_retry_after(system):
    username = f"guess.{suffix()}"
    statuses = [login(system.api, username, f"Guess-number-{i}").status_code for i in range(10)]
    assert statuses == [401] * 10
    r = login(system.api, username, "Guess-number-10")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert r.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(r.headers["Retry-After"]) <= 900
