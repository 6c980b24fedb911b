"""One-time link tokens: set a new user's first password, reset a forgotten one, confirm a
new email address. The raw token exists only in the link sent by email; identity keeps its
digest. A link works once and for 24 hours; a newer link of the same kind ends the older
ones."""
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from services.common.clock import utcnow
from services.common.errors import Gone
from services.identity.domain.accounts import digest
from services.identity.models import ResetToken, User

LINK_LIFETIME = timedelta(hours=24)
PASSWORD_LINKS = ("set_password", "reset_password")
EMAIL_LINKS = ("confirm_email",)


def _kinds(purpose):
    return PASSWORD_LINKS if purpose in PASSWORD_LINKS else (purpose,)


def end_links(session, user_id, purposes, now=None):
    """Unused links of these purposes stop working."""
    now = now or utcnow()
    session.execute(update(ResetToken)
                    .where(ResetToken.user_id == user_id, ResetToken.purpose.in_(purposes),
                           ResetToken.used_at.is_(None), ResetToken.expires_at > now)
                    .values(expires_at=now))


def new_link(session, user: User, purpose, now=None):
    """A one-time link token: (raw token, expires_at)."""
    now = now or utcnow()
    end_links(session, user.id, _kinds(purpose), now)
    raw = secrets.token_urlsafe(32)
    expires_at = now + LINK_LIFETIME
    session.add(ResetToken(token_hash=digest(raw), user_id=user.id, purpose=purpose,
                           created_at=now, expires_at=expires_at))
    session.flush()
    return raw, expires_at


def valid_link(session, raw_token, purposes, now=None) -> ResetToken:
    """The unused, unexpired link of one of these purposes; 410 otherwise. The caller marks
    it used (`used_at`) once what it allows has succeeded."""
    now = now or utcnow()
    row = session.scalar(select(ResetToken).where(ResetToken.token_hash == digest(raw_token))
                         .with_for_update())
    if row is None or row.purpose not in purposes:
        raise Gone("this link is not valid", code="token_invalid")
    if row.used_at is not None:
        raise Gone("this link was already used", code="token_used")
    if row.expires_at <= now:
        raise Gone("this link has expired", code="token_expired")
    return row
