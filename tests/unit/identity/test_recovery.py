"""Forgotten usernames and passwords (both capped per hour), one-time links stored as their
digest only, a new user's first password, and a reset revoking every token."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.errors import Gone, Invalid, Locked, Unauthorized
from services.identity.domain import accounts, auth, company_users, recovery, tokens
from services.identity.domain.auth import login
from services.identity.models import ResetToken, UsernameRecovery
from tests.unit.identity.support import KEYS, PASSWORD, events, sign_in

NEW = "Fresh-password-2026"


def test_forgot_username_emails_only_when_the_address_matches(session, company):
    company.add_user("bob", email="shared@example.com")
    company.add_user("bobby", email="Shared@Example.com")
    recovery.forgot_username(session, "nobody@example.com")
    assert events(session, "username_recovery_requested") == []
    recovery.forgot_username(session, " SHARED@example.com ")
    [event] = events(session, "username_recovery_requested")
    assert event["usernames"] == ["bob", "bobby"] and event["locale"] == "en"


def test_username_recovery_is_capped_per_hour_like_password_resets(session, company):
    company.add_user("bob", email="bob@example.com")
    for _ in range(recovery.USERNAME_RECOVERIES_PER_HOUR + 2):
        recovery.forgot_username(session, "BOB@example.com")
    assert len(events(session, "username_recovery_requested")) == \
        recovery.USERNAME_RECOVERIES_PER_HOUR == recovery.RESET_REQUESTS_PER_HOUR
    # an unknown address is counted the same way, and no address is kept in clear
    for _ in range(recovery.USERNAME_RECOVERIES_PER_HOUR + 2):
        recovery.forgot_username(session, "ghost@example.com")
    kept = session.scalars(select(UsernameRecovery.email_hash)).all()
    assert len(kept) == 2 * recovery.USERNAME_RECOVERIES_PER_HOUR
    assert not any("@" in value for value in kept)
    # an hour later the address may ask again
    recovery.forgot_username(session, "bob@example.com",
                             now=utcnow() + timedelta(hours=1, seconds=1))
    assert len(events(session, "username_recovery_requested")) == \
        recovery.USERNAME_RECOVERIES_PER_HOUR + 1


def test_forgot_password_for_an_unknown_user_says_nothing(session, company):
    recovery.forgot_password(session, "ghost")
    assert events(session, "password_reset_requested") == []


def request_reset(session, username="bob"):
    recovery.forgot_password(session, username)
    return events(session, "password_reset_requested")[-1]


def stored_hashes(session):
    return session.scalars(select(ResetToken.token_hash)).all()


def test_reset_link_sets_the_password_once(session, company):
    user = company.add_user("bob")
    event = request_reset(session)
    assert event["user_id"] == user.id and event["email"] == "bob@example.com"
    # stored as its digest only
    assert event["token"] not in stored_hashes(session)
    assert accounts.digest(event["token"]) in stored_hashes(session)
    recovery.reset_password(session, event["token"], NEW)
    assert login(session, "bob", NEW).id == user.id
    with pytest.raises(Unauthorized):
        login(session, "bob", PASSWORD)
    with pytest.raises(Gone) as used:
        recovery.reset_password(session, event["token"], "Another-password-99")
    assert used.value.code == "token_used" and used.value.status == 410


def test_a_reset_revokes_every_token_of_the_user(session, company):
    user = company.add_user("bob")
    pair = sign_in(session, "bob")
    revocation = recovery.reset_password(session, request_reset(session)["token"], NEW)
    assert revocation["user_id"] == user.id
    assert events(session, "access_revoked") == [revocation]
    with pytest.raises(Unauthorized) as exc:
        tokens.refresh(session, pair["refresh_token"], KEYS)
    assert exc.value.code == "refresh_token_revoked"


def test_reset_link_expires_after_24_hours(session, company):
    company.add_user("bob")
    event = request_reset(session)
    with pytest.raises(Gone) as exc:
        recovery.reset_password(session, event["token"], NEW,
                                now=utcnow() + timedelta(hours=24, seconds=1))
    assert exc.value.code == "token_expired"
    recovery.reset_password(session, event["token"], NEW, now=utcnow() + timedelta(hours=23))


def test_wrong_reset_token(session, company):
    with pytest.raises(Gone) as exc:
        recovery.reset_password(session, "not-a-token", NEW)
    assert exc.value.code == "token_invalid"


def test_weak_password_does_not_use_up_the_link(session, company):
    company.add_user("bob")
    event = request_reset(session)
    with pytest.raises(Invalid) as exc:
        recovery.reset_password(session, event["token"], "short")
    assert exc.value.code == "weak_password" and "new_password" in exc.value.errors
    recovery.reset_password(session, event["token"], NEW)


def test_a_new_link_replaces_the_previous_one(session, company):
    company.add_user("bob")
    first = request_reset(session)
    second = request_reset(session)
    with pytest.raises(Gone) as exc:
        recovery.reset_password(session, first["token"], NEW)
    assert exc.value.code == "token_expired"
    recovery.reset_password(session, second["token"], NEW)


def test_reset_requests_are_capped_per_hour(session, company):
    company.add_user("bob")
    for _ in range(recovery.RESET_REQUESTS_PER_HOUR + 2):
        recovery.forgot_password(session, "bob")
    assert len(events(session, "password_reset_requested")) == recovery.RESET_REQUESTS_PER_HOUR


def test_reset_unlocks_the_account(session, company):
    company.add_user("bob")
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(Unauthorized):
            login(session, "bob", "wrong-password")
    with pytest.raises(Locked):
        login(session, "bob", PASSWORD)
    recovery.reset_password(session, request_reset(session)["token"], NEW)
    assert login(session, "bob", NEW).failed_logins == 0


def test_new_user_sets_a_first_password_from_the_set_password_link(session, company):
    user = company_users.create_user(session, company.admin_ctx(), {
        "username": "newbie", "email": "newbie@example.com", "first_name": "Nina",
        "last_name": "New", "locale": "fr", "groups": ["users"]})
    created = events(session, "user_created")[-1]  # (the first is the company's admin)
    assert created["user_id"] == user.id and created["locale"] == "fr"
    assert created["set_password_token"] and created["set_password_expires_at"].endswith("Z")
    assert created["set_password_token"] not in stored_hashes(session)
    # a first password: there is no token to revoke
    assert recovery.reset_password(session, created["set_password_token"], NEW) is None
    assert events(session, "access_revoked") == []
    assert login(session, "newbie", NEW).id == user.id


def test_password_rules():
    with pytest.raises(Invalid):
        accounts.check_password("bob-is-the-best", "bob")
    with pytest.raises(Invalid):
        accounts.check_password("aaaaaaaaaaaa")
    accounts.check_password("Long-enough-1", "bob")
