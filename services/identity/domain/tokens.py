"""Access and refresh tokens.

The access token is a JWT signed with the key ring's current key (signing_keys.py) and
carries the caller context. The refresh token is opaque, stored as its digest, and rotated
at each use within the family of the login that started it: a rotated token presented again
revokes the whole family (someone holds a copy), and that revocation is kept although the
call fails.
"""
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Forbidden, Unauthorized
from services.common.tokens import ACCESS_TOKEN_SECONDS, issue_access_token
from services.identity.domain.accounts import digest
from services.identity.domain.auth import account_locked
from services.identity.domain.revocations import issue_time
from services.identity.models import Company, RefreshToken, User

REFRESH_TOKEN_LIFETIME = timedelta(days=14)


def caller_context(session, user: User) -> CallerContext:
    """Who the user is for every other service: what the access token carries."""
    rights = user.effective if not user.is_staff else \
        {"roles": [], "features": [], "catalog_ids": []}
    company = session.get(Company, user.company_id) if user.company_id is not None else None
    return CallerContext(user_id=user.id, company_id=user.company_id, roles=rights["roles"],
                         features=rights["features"], catalog_ids=rights["catalog_ids"],
                         staff=bool(user.is_staff), locale=user.locale, email=user.email,
                         name=user.full_name, currency=company.currency if company else None)


def public_keys(keys, now=None) -> list:
    """The public keys that verify access tokens now: [{kid, public_key}]."""
    return [{"kid": k.kid, "public_key": k.public_pem} for k in keys.published(now or utcnow())]


def issue_tokens(session, user: User, keys, family_id=None, now=None) -> dict:
    """A new access token and refresh token (in the family of the login, or a new one):
    {access_token, refresh_token, token_type, expires_in, user}."""
    now = now or utcnow()
    key = keys.signing(now)
    access = issue_access_token(caller_context(session, user), key.private_pem, key.kid,
                                now=issue_time(session, user.id))
    raw = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=digest(raw), user_id=user.id,
                             family_id=family_id or uuid.uuid4().hex, created_at=now,
                             expires_at=now + REFRESH_TOKEN_LIFETIME))
    session.flush()
    return {"access_token": access, "refresh_token": raw, "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS, "user": user}


def refresh(session, raw_token, keys, now=None) -> dict:
    """Rotate a refresh token: the old one is revoked, a new pair is issued."""
    now = now or utcnow()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(raw_token))
                         .with_for_update())
    if row is None:
        raise Unauthorized("unknown refresh token", code="invalid_refresh_token")
    if row.revoked_at is not None:
        revoke_family(session, row.family_id, now)
        raise Unauthorized("this refresh token was revoked",
                           code="refresh_token_revoked").keeping_changes()
    if row.expires_at <= now:
        raise Unauthorized("this refresh token has expired", code="refresh_token_expired")
    user = session.get(User, row.user_id)
    if user.status != "active":
        revoke_family(session, row.family_id, now)
        raise Forbidden("this account is disabled", code="account_disabled").keeping_changes()
    if user.locked_at is not None:
        raise account_locked()
    row.revoked_at = now
    return issue_tokens(session, user, keys, family_id=row.family_id, now=now)


def revoke_family(session, family_id, now=None):
    session.execute(update(RefreshToken)
                    .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now or utcnow()))


def logout(session, raw_token, now=None):
    """Revoke the refresh token and the rest of its login; unknown tokens are ignored."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(raw_token)))
    if row is not None:
        revoke_family(session, row.family_id, now)
