"""Users as accounts: finding them, creating them, and their passwords."""
import hashlib
from datetime import timedelta

from sqlalchemy import select

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Conflict, Invalid, NotFound
from services.common.tenancy import company_row
from services.identity import passwords
from services.identity.models import Credential, User

# a user who has not signed in for this long must reset the password
PASSWORD_MAX_AGE = timedelta(days=365)


def digest(raw: str) -> str:
    """What is stored of a token (refresh token, one-time link): its SHA-256, never itself."""
    return hashlib.sha256((raw or "").encode()).hexdigest()


def iso(moment):
    """A time in an event's payload: ISO 8601 UTC to the second."""
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def normalise_username(username) -> str:
    return (username or "").strip().lower()


def by_username(session, username) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def company_user(session, ctx: CallerContext, user_id) -> User:
    """A user of the caller's company; 404 for anyone else's."""
    return company_row(session, ctx, User, user_id, "user", code="not_found")


def own_user(session, ctx: CallerContext) -> User:
    """The caller's own user (company user or staff)."""
    user = session.get(User, ctx.user_id) if ctx.user_id is not None else None
    if user is None or user.company_id != ctx.company_id:
        raise NotFound("no such user")
    return user


def new_user(session, company_id, data: dict, is_staff=False, now=None) -> User:
    """A user row; 409 if the username is taken."""
    username = normalise_username(data["username"])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("this username is taken", code="username_taken",
                       errors={"username": ["Already taken."]})
    user = User(company_id=company_id, username=username, email=data.get("email"),
                first_name=data.get("first_name") or "", last_name=data.get("last_name") or "",
                phone=data.get("phone"), locale=data.get("locale") or "en", status="active",
                failed_logins=0, is_staff=is_staff, created_at=now or utcnow())
    session.add(user)
    session.flush()
    return user


def check_password(password, username=None, field="new_password"):
    """422 `weak_password` when a new password breaks the rules (passwords.policy_problems)."""
    problems = passwords.policy_problems(password, username)
    if problems:
        raise Invalid("this password is not acceptable", code="weak_password",
                      errors={field: problems})


def set_password(user: User, password, now=None):
    now = now or utcnow()
    check_password(password, user.username)
    hashed = passwords.hash_password(password)
    if user.credential is None:
        user.credential = Credential(password_hash=hashed, updated_at=now)
    else:
        user.credential.password_hash = hashed
        user.credential.updated_at = now
    user.password_changed_at = now


def password_expired(user: User, now) -> bool:
    last = max((d for d in (user.last_login_at, user.password_changed_at) if d is not None),
               default=user.created_at)
    return last is not None and now - last > PASSWORD_MAX_AGE
