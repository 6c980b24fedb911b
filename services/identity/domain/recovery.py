"""Forgotten usernames and passwords. The replies never say whether an account exists;
each kind of request is capped per hour for the same account or address, so that nobody can
flood a mailbox."""
from datetime import timedelta

from sqlalchemy import func, select

from services.common.clock import utcnow
from services.common.outbox import emit
from services.identity.domain import SOURCE
from services.identity.domain.accounts import (by_username, digest, iso, set_password)
from services.identity.domain.links import PASSWORD_LINKS, new_link, valid_link
from services.identity.domain.revocations import revoke_access
from services.identity.models import ResetToken, User, UsernameRecovery

RESET_REQUESTS_PER_HOUR = 5
USERNAME_RECOVERIES_PER_HOUR = RESET_REQUESTS_PER_HOUR


def forgot_username(session, email, now=None):
    """Email the usernames tied to an address; says nothing either way."""
    now = now or utcnow()
    address = (email or "").strip().lower()
    key = digest(address)
    recent = session.scalar(select(func.count()).select_from(UsernameRecovery)
                            .where(UsernameRecovery.email_hash == key,
                                   UsernameRecovery.requested_at > now - timedelta(hours=1)))
    if recent >= USERNAME_RECOVERIES_PER_HOUR:
        return  # enough emails already: do not flood the mailbox
    session.add(UsernameRecovery(email_hash=key, requested_at=now))
    users = session.scalars(select(User).where(func.lower(User.email) == address,
                                               User.status == "active")
                            .order_by(User.id)).all()
    if users:
        emit(session, SOURCE, "username_recovery_requested",
             {"email": users[0].email, "locale": users[0].locale,
              "usernames": [u.username for u in users]})


def forgot_password(session, username, now=None):
    """Email a one-time reset link; says nothing either way."""
    now = now or utcnow()
    user = by_username(session, username)
    if user is None or user.status != "active" or not user.email:
        return
    recent = session.scalar(select(func.count()).select_from(ResetToken)
                            .where(ResetToken.user_id == user.id,
                                   ResetToken.purpose == "reset_password",
                                   ResetToken.created_at > now - timedelta(hours=1)))
    if recent >= RESET_REQUESTS_PER_HOUR:
        return  # enough links already: do not flood the mailbox
    raw, expires_at = new_link(session, user, "reset_password", now)
    emit(session, SOURCE, "password_reset_requested",
         {"user_id": user.id, "email": user.email, "first_name": user.first_name,
          "locale": user.locale, "token": raw, "expires_at": iso(expires_at)})


def reset_password(session, raw_token, new_password, now=None) -> dict | None:
    """Set a password from a one-time link (first password or reset); unlocks the account
    and revokes every token of the user. Returns the revocation {user_id, revoked_before}
    (None for a first password: there was no token to revoke)."""
    now = now or utcnow()
    row = valid_link(session, raw_token, PASSWORD_LINKS, now)
    user = session.get(User, row.user_id)
    had_password = user.credential is not None
    set_password(user, new_password, now)  # a weak password does not use up the link
    row.used_at = now
    user.failed_logins = 0
    user.locked_at = None
    return revoke_access(session, user.id, now) if had_password else None
