"""Logins: credentials, lockout that reveals nothing, unlock, disabled accounts, password
expiry, rate limits per username and per client address, failures kept though the call
fails, and rehashing."""
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.errors import Forbidden, Locked, RateLimited, Unauthorized
from services.identity import passwords
from services.identity.domain import auth, company_users, links, recovery
from services.identity.domain.auth import LoginPolicy, login
from services.identity.models import LoginAttempt, User
from tests.unit.identity.support import PASSWORD, call, events


def test_login_with_the_right_password(session, company):
    user = company.add_user("bob")
    assert login(session, "bob", PASSWORD, "10.0.0.1").id == user.id
    assert user.last_login_at is not None and user.failed_logins == 0


def test_username_is_case_insensitive(session, company):
    company.add_user("bob")
    assert login(session, "  BoB ", PASSWORD).username == "bob"


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hashes verified (real or throw-away)."""
    verified = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: verified.append(1) or real(h, p))
    return verified


def refusal(session, username, password):
    with pytest.raises((Unauthorized, Locked, Forbidden)) as exc:
        login(session, username, password)
    return exc.value


def test_unknown_user_and_wrong_password_get_the_same_reply(session, company, hashes):
    company.add_user("bob")
    unknown = refusal(session, "nobody", PASSWORD)
    wrong = refusal(session, "bob", "not-the-password")
    assert type(unknown) is type(wrong) is Unauthorized
    assert (unknown.code, unknown.detail, unknown.status) == \
        (wrong.code, wrong.detail, wrong.status) == \
        ("invalid_credentials", "wrong username or password", 401)
    # the unknown user cost a verification too (same timing)
    assert len(hashes) == 2


def test_user_without_a_password_yet_cannot_log_in(session, company):
    company.add_user("newbie", password=None)
    assert refusal(session, "newbie", "").code == "invalid_credentials"


def lock(session, username):
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(Unauthorized):
            login(session, username, "wrong-password")


def test_five_failures_in_a_row_lock_the_account_silently(session, company):
    user = company.add_user("bob")
    for _ in range(4):
        assert refusal(session, "bob", "wrong-password").code == "invalid_credentials"
    assert user.locked_at is None
    # the fifth failure locks, and answers as the four before it
    fifth = refusal(session, "bob", "wrong-password")
    assert isinstance(fifth, Unauthorized) and fifth.code == "invalid_credentials"
    assert user.locked_at is not None
    assert events(session, "user_locked") == [{"user_id": user.id, "email": "bob@example.com",
                                               "first_name": "Uma", "locale": "en"}]
    # only the right password learns that the account is locked
    right = refusal(session, "bob", PASSWORD)
    assert isinstance(right, Locked) and right.status == 423 and right.code == "account_locked"


def test_a_locked_account_answers_a_wrong_password_like_an_unknown_one(session, company,
                                                                       hashes):
    company.add_user("bob")
    lock(session, "bob")
    hashes.clear()
    locked = refusal(session, "bob", "still-wrong")
    unknown = refusal(session, "nobody", "still-wrong")
    assert (type(locked), locked.code, locked.detail, locked.status, locked.errors,
            locked.extra) == (type(unknown), unknown.code, unknown.detail, unknown.status,
                              unknown.errors, unknown.extra)
    assert len(hashes) == 2  # the locked account's hash ran: same time as the others


def test_failures_are_kept_though_the_call_fails(session, company):
    company.add_user("bob")
    with pytest.raises(Unauthorized) as exc:
        call(session, login, "bob", "wrong-password")
    assert exc.value.keeps_changes
    with pytest.raises(Unauthorized):
        call(session, login, "nobody", "wrong-password")
    assert session.scalar(select(User).where(User.username == "bob")).failed_logins == 1
    assert session.scalars(select(LoginAttempt.username).order_by(LoginAttempt.id)).all() == \
        ["bob", "nobody"]


def test_the_lock_and_its_email_are_kept_though_the_call_fails(session, company):
    user = company.add_user("bob")
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(Unauthorized):
            call(session, login, "bob", "wrong-password")
    session.expire_all()
    assert user.locked_at is not None and len(events(session, "user_locked")) == 1


def test_the_hash_runs_after_the_reads_with_nothing_written(session, company, hashes):
    company.add_user("bob")
    session.commit()
    seen = []

    def before_hash():
        seen.append((len(hashes), bool(session.new or session.dirty or session.deleted)))
        session.rollback()  # what the service does: the hash holds no connection

    assert login(session, "bob", PASSWORD, before_hash=before_hash).username == "bob"
    with pytest.raises(Unauthorized):
        login(session, "bob", "wrong-password", before_hash=before_hash)
    assert seen == [(0, False), (1, False)]
    assert session.scalar(select(User.failed_logins).where(User.username == "bob")) == 1


def test_a_success_resets_the_failure_count(session, company):
    company.add_user("bob")
    for _ in range(4):
        refusal(session, "bob", "wrong-password")
    login(session, "bob", PASSWORD)
    for _ in range(4):
        refusal(session, "bob", "wrong-password")
    assert login(session, "bob", PASSWORD).username == "bob"


def test_security_admin_unlocks(session, company):
    user = company.add_user("bob")
    lock(session, "bob")
    assert company_users.update_user(session, company.admin_ctx(), user.id,
                                     {"unlock": True}).locked is False
    assert login(session, "bob", PASSWORD).id == user.id


def test_disabled_user_cannot_log_in(session, company):
    user = company.add_user("bob")
    company_users.update_user(session, company.admin_ctx(), user.id, {"status": "disabled"})
    disabled = refusal(session, "bob", PASSWORD)
    assert isinstance(disabled, Forbidden) and disabled.code == "account_disabled"
    # without the password, nothing tells the account apart from an unknown one
    assert refusal(session, "bob", "wrong-password").code == "invalid_credentials"
    company_users.update_user(session, company.admin_ctx(), user.id, {"status": "active"})
    assert login(session, "bob", PASSWORD).id == user.id


def test_no_login_for_a_year_means_the_password_expired(session, company):
    user = company.add_user("bob")
    now = utcnow()
    user.last_login_at = now - timedelta(days=366)
    user.password_changed_at = now - timedelta(days=400)
    session.flush()
    assert refusal(session, "bob", PASSWORD).code == "password_expired"
    assert refusal(session, "bob", "wrong-password").code == "invalid_credentials"
    # a reset brings the account back
    raw, _ = links.new_link(session, user, "reset_password")
    recovery.reset_password(session, raw, "A-brand-new-password-1")
    assert login(session, "bob", "A-brand-new-password-1").id == user.id


def test_a_login_within_the_year_keeps_the_password_valid(session, company):
    user = company.add_user("bob")
    user.last_login_at = utcnow() - timedelta(days=364)
    user.password_changed_at = utcnow() - timedelta(days=800)
    session.flush()
    assert login(session, "bob", PASSWORD).id == user.id


def test_rate_limit_per_username_applies_even_to_the_right_password(session, company):
    company.add_user("bob")
    policy = LoginPolicy(window_seconds=600, max_failures_per_username=3,
                         max_failures_per_address=100)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            login(session, "bob", "wrong-password", "10.0.0.1", policy=policy)
    with pytest.raises(RateLimited) as exc:
        login(session, "bob", PASSWORD, "10.0.0.2", policy=policy)
    assert exc.value.status == 429 and exc.value.code == "rate_limited"
    assert 0 < exc.value.extra["retry_after"] <= 601
    # not a lockout: three failures do not lock the account
    assert session.scalar(select(User).where(User.username == "bob")).locked_at is None


def test_rate_limit_window_passes(session, company):
    company.add_user("bob")
    policy = LoginPolicy(window_seconds=600, max_failures_per_username=3)
    past = utcnow() - timedelta(seconds=700)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            login(session, "bob", "wrong-password", now=past, policy=policy)
    assert login(session, "bob", PASSWORD, policy=policy).username == "bob"


def test_rate_limit_per_client_address(session, company):
    company.add_user("bob")
    policy = LoginPolicy(max_failures_per_username=100, max_failures_per_address=4)
    for i in range(4):
        with pytest.raises(Unauthorized):
            login(session, f"guess{i}", "wrong-password", "10.9.9.9", policy=policy)
    with pytest.raises(RateLimited):
        login(session, "bob", PASSWORD, "10.9.9.9", policy=policy)
    # another address is not affected
    assert login(session, "bob", PASSWORD, "10.1.1.1", policy=policy).username == "bob"


def test_lockout_does_not_wait_for_the_rate_limit(session, company):
    company.add_user("bob")
    lock(session, "bob")
    with pytest.raises(Locked):
        login(session, "bob", PASSWORD, policy=LoginPolicy(max_failures_per_username=50))


def test_an_old_hash_is_upgraded_at_login(session, company):
    user = company.add_user("bob")
    user.credential.password_hash = PasswordHasher(time_cost=1, memory_cost=8192,
                                                   parallelism=1).hash(PASSWORD)
    session.flush()
    assert passwords.needs_rehash(user.credential.password_hash)
    login(session, "bob", PASSWORD)
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
