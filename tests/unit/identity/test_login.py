"""Logins: credentials, lockout and unlock, disabled accounts, password expiry, rate limits
and rehashing."""
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.errors import Forbidden, Locked, RateLimited, Unauthorized
from services.identity import domain, passwords
from services.identity.models import LoginAttempt, User
from tests.unit.identity.support import PASSWORD, events


def test_login_with_the_right_password(session, company):
    user = company.add_user("bob")
    assert domain.login(session, "bob", PASSWORD, "10.0.0.1").id == user.id
    assert user.last_login_at is not None and user.failed_logins == 0


def test_username_is_case_insensitive(session, company):
    company.add_user("bob")
    assert domain.login(session, "  BoB ", PASSWORD).username == "bob"


def test_unknown_user_and_wrong_password_get_the_same_reply(session, company, monkeypatch):
    company.add_user("bob")
    verified = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: verified.append(1) or real(h, p))
    with pytest.raises(Unauthorized) as unknown:
        domain.login(session, "nobody", PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        domain.login(session, "bob", "not-the-password")
    assert unknown.value.code == wrong.value.code == "invalid_credentials"
    assert unknown.value.detail == wrong.value.detail
    assert unknown.value.status == 401
    # the unknown user cost a verification too (same timing)
    assert len(verified) == 2


def test_user_without_a_password_yet_cannot_log_in(session, company):
    company.add_user("newbie", password=None)
    with pytest.raises(Unauthorized) as exc:
        domain.login(session, "newbie", "")
    assert exc.value.code == "invalid_credentials"


def test_five_failures_in_a_row_lock_the_account(session, company):
    user = company.add_user("bob")
    for _ in range(4):
        with pytest.raises(Unauthorized):
            domain.login(session, "bob", "wrong-password")
    with pytest.raises(Locked) as fifth:
        domain.login(session, "bob", "wrong-password")
    assert fifth.value.code == "account_locked" and fifth.value.status == 423
    # now even the right password is refused
    with pytest.raises(Locked):
        domain.login(session, "bob", PASSWORD)
    assert user.locked_at is not None
    locked = events(session, "user_locked")
    assert locked == [{"user_id": user.id, "email": "bob@example.com", "first_name": "Uma",
                       "locale": "en"}]


def test_failures_are_recorded_even_though_the_error_rolls_back(session, company):
    company.add_user("bob")
    with pytest.raises(Unauthorized):
        domain.login(session, "bob", "wrong-password")
    session.rollback()  # what the RPC entrypoint does on an error
    assert session.scalar(select(User).where(User.username == "bob")).failed_logins == 1
    assert session.scalar(select(LoginAttempt.outcome)) == "invalid_credentials"


def test_a_success_resets_the_failure_count(session, company):
    company.add_user("bob")
    for _ in range(4):
        with pytest.raises(Unauthorized):
            domain.login(session, "bob", "wrong-password")
    domain.login(session, "bob", PASSWORD)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            domain.login(session, "bob", "wrong-password")
    assert domain.login(session, "bob", PASSWORD).username == "bob"


def lock(session, username):
    for _ in range(domain.MAX_FAILED_LOGINS):
        with pytest.raises((Unauthorized, Locked)):
            domain.login(session, username, "wrong-password")


def test_security_admin_unlocks(session, company):
    user = company.add_user("bob")
    lock(session, "bob")
    view = domain.update_user(session, company.admin_ctx(), user.id, {"unlock": True})
    assert view["locked"] is False
    assert domain.login(session, "bob", PASSWORD).id == user.id


def test_disabled_user_cannot_log_in(session, company):
    user = company.add_user("bob")
    domain.update_user(session, company.admin_ctx(), user.id, {"status": "disabled"})
    with pytest.raises(Forbidden) as exc:
        domain.login(session, "bob", PASSWORD)
    assert exc.value.code == "account_disabled"
    # without the password, nothing tells the account apart from an unknown one
    with pytest.raises(Unauthorized):
        domain.login(session, "bob", "wrong-password")
    domain.update_user(session, company.admin_ctx(), user.id, {"status": "active"})
    assert domain.login(session, "bob", PASSWORD).id == user.id


def test_no_login_for_a_year_means_the_password_expired(session, company):
    user = company.add_user("bob")
    now = utcnow()
    user.last_login_at = now - timedelta(days=366)
    user.password_changed_at = now - timedelta(days=400)
    session.flush()
    with pytest.raises(Forbidden) as exc:
        domain.login(session, "bob", PASSWORD)
    assert exc.value.code == "password_expired"
    # a reset brings the account back
    raw, _ = domain.new_reset_token(session, user, "reset_password")
    domain.reset_password(session, raw, "A-brand-new-password-1")
    assert domain.login(session, "bob", "A-brand-new-password-1").id == user.id


def test_a_login_within_the_year_keeps_the_password_valid(session, company):
    user = company.add_user("bob")
    user.last_login_at = utcnow() - timedelta(days=364)
    user.password_changed_at = utcnow() - timedelta(days=800)
    session.flush()
    assert domain.login(session, "bob", PASSWORD).id == user.id


def test_rate_limit_per_username_applies_even_to_the_right_password(session, company):
    company.add_user("bob")
    policy = domain.LoginPolicy(window_seconds=600, max_failures_per_username=3,
                                max_failures_per_address=100)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            domain.login(session, "bob", "wrong-password", "10.0.0.1", policy=policy)
    with pytest.raises(RateLimited) as exc:
        domain.login(session, "bob", PASSWORD, "10.0.0.2", policy=policy)
    assert exc.value.status == 429 and exc.value.code == "rate_limited"
    assert 0 < exc.value.extra["retry_after"] <= 601
    # not a lockout: three failures do not lock the account
    assert session.scalar(select(User).where(User.username == "bob")).locked_at is None


def test_rate_limit_window_passes(session, company):
    company.add_user("bob")
    policy = domain.LoginPolicy(window_seconds=600, max_failures_per_username=3)
    past = utcnow() - timedelta(seconds=700)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            domain.login(session, "bob", "wrong-password", now=past, policy=policy)
    assert domain.login(session, "bob", PASSWORD, policy=policy).username == "bob"


def test_rate_limit_per_client_address(session, company):
    company.add_user("bob")
    policy = domain.LoginPolicy(max_failures_per_username=100, max_failures_per_address=4)
    for i in range(4):
        with pytest.raises(Unauthorized):
            domain.login(session, f"guess{i}", "wrong-password", "10.9.9.9", policy=policy)
    with pytest.raises(RateLimited):
        domain.login(session, "bob", PASSWORD, "10.9.9.9", policy=policy)
    # another address is not affected
    assert domain.login(session, "bob", PASSWORD, "10.1.1.1", policy=policy).username == "bob"


def test_lockout_does_not_wait_for_the_rate_limit(session, company):
    company.add_user("bob")
    policy = domain.LoginPolicy(max_failures_per_username=50)
    lock(session, "bob")
    with pytest.raises(Locked):
        domain.login(session, "bob", PASSWORD, policy=policy)


def test_an_old_hash_is_upgraded_at_login(session, company):
    user = company.add_user("bob")
    user.credential.password_hash = PasswordHasher(time_cost=1, memory_cost=8192,
                                                   parallelism=1).hash(PASSWORD)
    session.flush()
    assert passwords.needs_rehash(user.credential.password_hash)
    domain.login(session, "bob", PASSWORD)
    assert not passwords.needs_rehash(user.credential.password_hash)
    assert passwords.verify_password(user.credential.password_hash, PASSWORD)


def test_hash_is_argon2id_with_our_parameters():
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    p = passwords
    assert f"m={p.MEMORY_COST_KIB},t={p.TIME_COST},p={p.PARALLELISM}" in hashed
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + "x")
    assert not passwords.verify_password("not a hash", PASSWORD)
