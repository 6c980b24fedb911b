"""Signing in the user a punch-out session acts as.

A procurement system opens a punch-out for a company (services/punchout): the session acts
as the user the company's PunchOut configuration names, or as the company's user whose email
the buyer system sent (the UserEmail extrinsic). Here that user is found, only among the
company's active, unlocked users, and gets the caller context (for orders placed on their
behalf) and, for a browser session, a token pair as from a login.
"""
from sqlalchemy import func, select

from services.common.errors import Forbidden, NotFound
from services.identity.domain.tokens import caller_context, issue_tokens
from services.identity.models import User
from services.identity.schemas import MeSchema, TokenPairSchema


def punchout_user(session, company_id: int, user_id=None, email=None) -> User:
    """The company's user by id, or by email (case-insensitive; the oldest account when
    several share it). 404 when there is none; 403 when the account cannot sign in."""
    query = select(User).where(User.company_id == company_id, User.is_staff.is_(False))
    if user_id is not None:
        query = query.where(User.id == int(user_id))
    elif email:
        query = query.where(func.lower(User.email) == email.strip().lower())
    else:
        raise NotFound("no user to act as", code="punchout_user_not_found")
    user = session.scalars(query.order_by(User.id).limit(1)).first()
    if user is None:
        raise NotFound("no user of this company to act as in punch-out sessions",
                       code="punchout_user_not_found")
    if user.status != "active" or user.locked_at is not None:
        raise Forbidden("the punch-out user's account is disabled or locked",
                        code="punchout_user_inactive")
    return user


def punchout_login(session, company_id: int, user_id=None, email=None, tokens=True,
                   keys=None) -> dict:
    """{context, user} of the user a punch-out acts as, with a token pair (signed with
    `keys`, the key ring) when `tokens`."""
    user = punchout_user(session, company_id, user_id, email)
    out = {"context": caller_context(session, user).to_dict(), "user": MeSchema().dump(user)}
    if tokens:
        out.update(TokenPairSchema().dump(issue_tokens(session, user, keys)))
    return out
