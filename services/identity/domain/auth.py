"""Logins: rate limits, lockout, disabled accounts and expired passwords.

Five failed logins in a row lock an account (a security admin or a password reset unlocks
it). A locked or unknown account answers exactly as a wrong password does (401
`invalid_credentials`, after the same password hash) unless the right password is given;
only then does the caller learn that the account is locked (423), disabled or has an expired
password (403). Failures are also limited per username and per client address over a
window (429), whether or not the account exists.

A failure is recorded although the call fails: the errors raised here keep the changes made
before them (`keeping_changes`), which the unit of work commits.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from services.common.clock import utcnow
from services.common.errors import Forbidden, Invalid, Locked, RateLimited, Unauthorized
from services.common.outbox import emit
from services.identity import passwords
from services.identity.domain import SOURCE
from services.identity.domain.accounts import normalise_username, password_expired
from services.identity.models import LoginAttempt, User

MAX_FAILED_LOGINS = 5


@dataclass(frozen=True)
class LoginPolicy:
    """Rate limits on failed logins, independent of the lockout of an account."""
    window_seconds: int = 900
    max_failures_per_username: int = 10
    max_failures_per_address: int = 100


def invalid_credentials():
    return Unauthorized("wrong username or password", code="invalid_credentials")


def account_locked():
    return Locked("account locked after too many failed logins", code="account_locked")


def record_attempt(session, username, client_address, succeeded, outcome, now):
    session.add(LoginAttempt(username=username[:64], client_address=(client_address or None),
                             succeeded=succeeded, outcome=outcome, at=now))


def check_rate(session, username, client_address, policy: LoginPolicy, now):
    """429 when too many logins failed lately for this username or from this address."""
    since = now - timedelta(seconds=policy.window_seconds)
    checks = [(LoginAttempt.username == username, policy.max_failures_per_username)]
    if client_address:
        checks.append((LoginAttempt.client_address == client_address,
                       policy.max_failures_per_address))
    retry_after = 0
    for condition, limit in checks:
        failed = (condition, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        count = session.scalar(select(func.count()).select_from(LoginAttempt).where(*failed))
        if count >= limit:
            # allowed again once enough failures have left the window
            nth = session.scalar(select(LoginAttempt.at).where(*failed)
                                 .order_by(LoginAttempt.at.desc()).offset(limit - 1).limit(1))
            free_at = nth + timedelta(seconds=policy.window_seconds)
            retry_after = max(retry_after, int((free_at - now).total_seconds()) + 1)
    if retry_after:
        raise RateLimited("too many failed logins; retry later", code="rate_limited",
                          extra={"retry_after": retry_after})


def count_failure(session, user: User, now):
    """One more failed password for this user; the fifth in a row locks the account."""
    # in the database, so that concurrent failures all count
    session.execute(update(User).where(User.id == user.id)
                    .values(failed_logins=User.failed_logins + 1))
    session.refresh(user, ["failed_logins", "locked_at"])
    if user.failed_logins >= MAX_FAILED_LOGINS and user.locked_at is None:
        user.locked_at = now
        emit(session, SOURCE, "user_locked", {"user_id": user.id, "email": user.email,
                                              "first_name": user.first_name,
                                              "locale": user.locale})


def _refused(session, username, client_address, now, error):
    record_attempt(session, username, client_address, False, error.code, now)
    return error.keeping_changes()


def login(session, username, password, client_address=None, policy=LoginPolicy(), now=None,
          before_hash=None) -> User:
    """Check a username and password; returns the user, or raises (401 invalid_credentials,
    423 account_locked, 403 account_disabled / password_expired, 429 rate_limited).

    `before_hash()`, when given, runs after the reads and before the slow password hash,
    with nothing written yet: the service ends its read-only transaction there, so that
    the hash holds no database connection."""
    now = now or utcnow()
    key = normalise_username(username)
    check_rate(session, key, client_address, policy, now)
    user = session.scalar(select(User).where(User.username == key))
    password_hash = user.credential.password_hash if user is not None and \
        user.credential is not None else None
    if before_hash is not None:
        before_hash()
    if password_hash is None:
        # no such user (or no password yet): spend the same time as a wrong password
        passwords.spend_verification_time(password or "")
        raise _refused(session, key, client_address, now, invalid_credentials())
    verified = passwords.verify_password(password_hash, password or "")
    session.refresh(user)  # a lock or a disabling that happened meanwhile counts
    if not verified:
        count_failure(session, user, now)
        raise _refused(session, key, client_address, now, invalid_credentials())
    # Only someone who knows the password learns these.
    if user.locked_at is not None:
        raise _refused(session, key, client_address, now, account_locked())
    if user.status != "active":
        raise _refused(session, key, client_address, now,
                       Forbidden("this account is disabled", code="account_disabled"))
    if password_expired(user, now):
        raise _refused(session, key, client_address, now,
                       Forbidden("no login for a year: reset the password",
                                 code="password_expired"))
    if passwords.needs_rehash(password_hash):
        user.credential.password_hash = passwords.hash_password(password)
        user.credential.updated_at = now
    user.failed_logins = 0
    user.last_login_at = now
    record_attempt(session, key, client_address, True, "ok", now)
    session.flush()
    return user


def confirm_password(session, user: User, password, policy=LoginPolicy(), now=None,
                     field="current_password"):
    """The signed-in user proves they know their password before a sensitive change (new
    password, new email). A wrong one counts as a failed login, so that a stolen session
    cannot be used to guess it; raises 422 `wrong_password` (or 429)."""
    now = now or utcnow()
    check_rate(session, user.username, None, policy, now)
    if user.credential is not None and \
            passwords.verify_password(user.credential.password_hash, password or ""):
        return
    if user.credential is None:
        passwords.spend_verification_time(password or "")
    count_failure(session, user, now)
    record_attempt(session, user.username, None, False, "wrong_password", now)
    raise Invalid("the current password is wrong", code="wrong_password",
                  errors={field: ["The current password is wrong."]}).keeping_changes()
