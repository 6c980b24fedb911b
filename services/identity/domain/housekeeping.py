"""Forgetting what no rule needs any more."""
from datetime import timedelta

from sqlalchemy import delete

from services.common.clock import utcnow
from services.identity.models import (AccessRevocation, LoginAttempt, RefreshToken, ResetToken,
                                      UsernameRecovery)


def prune(session, now=None):
    """Old login attempts and username recoveries, dead tokens and links, old revocations."""
    now = now or utcnow()
    day_ago = now - timedelta(days=1)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < day_ago))
    session.execute(delete(UsernameRecovery).where(UsernameRecovery.requested_at < day_ago))
    session.execute(delete(RefreshToken).where(RefreshToken.expires_at < day_ago))
    session.execute(delete(ResetToken).where(ResetToken.expires_at < now - timedelta(days=7)))
    session.execute(delete(AccessRevocation).where(AccessRevocation.created_at < day_ago))
