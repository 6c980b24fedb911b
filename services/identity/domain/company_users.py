"""Users as a company's security administrator manages them: list, create (with a
set-password email), disable or enable, unlock, groups and rights. A change of rights or a
disabling revokes the user's tokens."""
from sqlalchemy import func, or_, select

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Conflict
from services.common.outbox import emit
from services.common.paging import keyset_page
from services.identity.domain import SOURCE
from services.identity.domain.accounts import company_user, iso, new_user
from services.identity.domain.groups import resolve_groups
from services.identity.domain.links import new_link
from services.identity.domain.profile import (PROFILE_FIELDS, cancel_email_change,
                                              read_only_username)
from services.identity.domain.revocations import revoke_access, revoke_if_rights_changed
from services.identity.models import User


def list_users(session, ctx: CallerContext, limit=50, cursor=None, q=None, status=None):
    """(users, next_cursor) of the caller's company; `q` searches usernames, emails and
    names."""
    return users_of_company(session, ctx.company_id, limit, cursor, q, status)


def users_of_company(session, company_id, limit=50, cursor=None, q=None, status=None):
    """(users, next_cursor) of one company (list_users; staff name the company)."""
    stmt = select(User).where(User.company_id == company_id)
    if status:
        stmt = stmt.where(User.status == status)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like),
                              func.lower(User.email).like(like),
                              func.lower(User.first_name).like(like),
                              func.lower(User.last_name).like(like)))
    return keyset_page(session, stmt, User.id, limit, cursor)


def get_user(session, ctx: CallerContext, user_id) -> User:
    return company_user(session, ctx, user_id)


def create_user(session, ctx: CallerContext, data: dict, now=None, notify=True) -> User:
    """A company user, in `users` unless groups are given; they get a set-password email."""
    now = now or utcnow()
    groups = resolve_groups(session, ctx.company_id, data.get("groups") or ["users"])
    user = new_user(session, ctx.company_id, data, now=now)
    user.groups = groups
    user.set_grants(roles=data.get("roles"), features=data.get("features"),
                    catalog_ids=data.get("catalog_ids"))
    session.flush()
    if notify:
        raw, expires_at = new_link(session, user, "set_password", now)
        emit(session, SOURCE, "user_created",
             {"user_id": user.id, "company_id": user.company_id, "username": user.username,
              "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
              "locale": user.locale, "set_password_token": raw,
              "set_password_expires_at": iso(expires_at)})
    return user


def update_user(session, ctx: CallerContext, user_id, changes: dict, now=None) -> User:
    """Status, unlock, groups and rights of a company user (and profile fields)."""
    now = now or utcnow()
    read_only_username(changes)
    user = company_user(session, ctx, user_id)
    before = {user.id: user.effective}
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name])
    if "email" in changes and changes["email"] != user.email:
        user.email = changes["email"]
        cancel_email_change(session, user, now)
    if changes.get("unlock"):
        user.failed_logins = 0
        user.locked_at = None
    if "groups" in changes:
        user.groups = resolve_groups(session, ctx.company_id, changes["groups"])
    user.set_grants(roles=changes.get("roles"), features=changes.get("features"),
                    catalog_ids=changes.get("catalog_ids"))
    status = changes.get("status")
    if status == "disabled" and user.status != "disabled":
        if user.id == ctx.user_id:
            raise Conflict("you cannot disable your own account", code="cannot_disable_self")
        user.status = "disabled"
        revoke_access(session, user.id, now)
        emit(session, SOURCE, "user_disabled", {"user_id": user.id, "company_id": user.company_id})
    else:
        if status == "active":
            user.status = "active"
        revoke_if_rights_changed(session, [user], before, now)
    session.flush()
    return user
