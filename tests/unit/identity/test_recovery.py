"""Forgotten usernames and passwords, one-time links, and a new user's first password."""
from datetime import timedelta

import pytest

from services.common.clock import utcnow
from services.common.errors import Gone, Invalid, Locked, Unauthorized
from services.identity import domain
from services.identity.models import ResetToken
from tests.unit.identity.support import PASSWORD, events

NEW = "Fresh-password-2026"


def test_forgot_username_emails_only_when_the_address_matches(session, company):
    company.add_user("bob", email="shared@example.com")
    company.add_user("bobby", email="Shared@Example.com")
    domain.forgot_username(session, "nobody@example.com")
    assert events(session, "username_recovery_requested") == []
    domain.forgot_username(session, " SHARED@example.com ")
    [event] = events(session, "username_recovery_requested")
    assert event["usernames"] == ["bob", "bobby"] and event["locale"] == "en"


def test_forgot_password_for_an_unknown_user_says_nothing(session, company):
    domain.forgot_password(session, "ghost")
    assert events(session, "password_reset_requested") == []


def request_reset(session, username="bob"):
    domain.forgot_password(session, username)
    return events(session, "password_reset_requested")[-1]


def test_reset_link_sets_the_password_once(session, company):
    user = company.add_user("bob")
    event = request_reset(session)
    assert event["user_id"] == user.id and event["email"] == "bob@example.com"
    # stored hashed only
    assert session.query(ResetToken).filter_by(token_hash=event["token"]).count() == 0
    domain.reset_password(session, event["token"], NEW)
    assert domain.login(session, "bob", NEW).id == user.id
    with pytest.raises(Unauthorized):
        domain.login(session, "bob", PASSWORD)
    with pytest.raises(Gone) as used:
        domain.reset_password(session, event["token"], "Another-password-99")
    assert used.value.code == "token_used" and used.value.status == 410


def test_reset_link_expires_after_24_hours(session, company):
    company.add_user("bob")
    event = request_reset(session)
    with pytest.raises(Gone) as exc:
        domain.reset_password(session, event["token"], NEW,
                              now=utcnow() + timedelta(hours=24, seconds=1))
    assert exc.value.code == "token_expired"
    domain.reset_password(session, event["token"], NEW, now=utcnow() + timedelta(hours=23))


def test_wrong_reset_token(session, company):
    with pytest.raises(Gone) as exc:
        domain.reset_password(session, "not-a-token", NEW)
    assert exc.value.code == "token_invalid"


def test_weak_password_does_not_use_up_the_link(session, company):
    company.add_user("bob")
    event = request_reset(session)
    with pytest.raises(Invalid) as exc:
        domain.reset_password(session, event["token"], "short")
    assert exc.value.code == "weak_password" and "new_password" in exc.value.errors
    domain.reset_password(session, event["token"], NEW)


def test_a_new_link_replaces_the_previous_one(session, company):
    company.add_user("bob")
    first = request_reset(session)
    second = request_reset(session)
    with pytest.raises(Gone) as exc:
        domain.reset_password(session, first["token"], NEW)
    assert exc.value.code == "token_expired"
    domain.reset_password(session, second["token"], NEW)


def test_reset_requests_are_capped_per_hour(session, company):
    company.add_user("bob")
    for _ in range(domain.RESET_REQUESTS_PER_HOUR + 2):
        domain.forgot_password(session, "bob")
    assert len(events(session, "password_reset_requested")) == domain.RESET_REQUESTS_PER_HOUR


def test_reset_unlocks_the_account(session, company):
    company.add_user("bob")
    for _ in range(domain.MAX_FAILED_LOGINS):
        with pytest.raises((Unauthorized, Locked)):
            domain.login(session, "bob", "wrong-password")
    domain.reset_password(session, request_reset(session)["token"], NEW)
    assert domain.login(session, "bob", NEW).failed_logins == 0


def test_new_user_sets_a_first_password_from_the_set_password_link(session, company):
    view = domain.create_user(session, company.admin_ctx(), {
        "username": "newbie", "email": "newbie@example.com", "first_name": "Nina",
        "last_name": "New", "locale": "fr", "groups": ["users"]})
    created = events(session, "user_created")[-1]  # (the first is the company's admin)
    assert created["user_id"] == view["id"] and created["locale"] == "fr"
    assert created["set_password_token"] and created["set_password_expires_at"].endswith("Z")
    domain.reset_password(session, created["set_password_token"], NEW)
    assert domain.login(session, "newbie", NEW).id == view["id"]


def test_password_rules():
    with pytest.raises(Invalid):
        domain.check_password("bob-is-the-best", "bob")
    with pytest.raises(Invalid):
        domain.check_password("aaaaaaaaaaaa")
    domain.check_password("Long-enough-1", "bob")
