"""Refusing a user's tokens: the refresh tokens are revoked in identity's table; the access
tokens, which the gateway verifies by itself, are refused from a cutoff (`revoked_before`,
epoch seconds) that every gateway learns from the `access_revoked` event and from
`recent_revocations` (loaded at start and every 30 s)."""
import time
from datetime import timedelta

from sqlalchemy import select, update

from services.common.clock import utcnow
from services.common.outbox import emit
from services.common.tokens import ACCESS_TOKEN_SECONDS
from services.identity.domain import SOURCE
from services.identity.models import AccessRevocation, RefreshToken

# an access token lives this long, so a revocation older than this protects nothing more
REVOCATION_MEMORY = timedelta(seconds=ACCESS_TOKEN_SECONDS)


def revoke_sessions(session, user_id, now=None):
    """Revoke every refresh token of the user."""
    session.execute(update(RefreshToken)
                    .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now or utcnow()))


def revoke_access(session, user_id, now=None) -> dict:
    """Refuse every token the user holds, access and refresh (rights changed, account
    disabled, password changed or reset); returns the revocation `{user_id,
    revoked_before}` the gateway applies."""
    revoke_sessions(session, user_id, now)
    revoked_before = int(time.time())
    row = session.get(AccessRevocation, user_id)
    if row is None:
        session.add(AccessRevocation(user_id=user_id, revoked_before=revoked_before,
                                     created_at=utcnow()))
    else:
        row.revoked_before = max(row.revoked_before, revoked_before)
        row.created_at = utcnow()
    session.flush()
    revocation = {"user_id": user_id, "revoked_before": revoked_before}
    emit(session, SOURCE, "access_revoked", revocation)
    return revocation


def recent_revocations(session, now=None) -> dict:
    """{user_id: revoked_before} for revocations that can still matter."""
    since = (now or utcnow()) - REVOCATION_MEMORY
    rows = session.execute(select(AccessRevocation.user_id, AccessRevocation.revoked_before)
                           .where(AccessRevocation.created_at >= since)).all()
    return {str(user_id): revoked_before for user_id, revoked_before in rows}


def revoke_if_rights_changed(session, users, before: dict, now=None):
    """Revoke the tokens of each user whose effective rights differ from `before`
    ({user_id: rights}): their tokens carry the old rights."""
    for user in users:
        if user.effective != before.get(user.id):
            revoke_access(session, user.id, now)


def issue_time(session, user_id, sleep=time.sleep) -> float:
    """When to stamp a new access token of this user (epoch seconds)."""
    # Tokens are stamped in whole seconds and a stamp equal to revoked_before is refused:
    # a token issued in the second of a revocation must wait for the next second.
    revoked_before = session.scalar(select(AccessRevocation.revoked_before)
                                    .where(AccessRevocation.user_id == user_id))
    now = time.time()
    if revoked_before is not None and int(now) <= revoked_before:
        sleep(min(2.0, revoked_before + 1.01 - now))
        now = time.time()
    return now
