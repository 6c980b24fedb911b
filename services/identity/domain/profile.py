"""The caller's own account: profile, email address, password and email preferences.

A new email address takes effect only once the link sent to it is used, and asking for it
needs the current password; the old address gets a notice. A new password revokes every
token of the user, this session's included.
"""
from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Gone, Invalid
from services.common.outbox import emit
from services.identity.domain import SOURCE
from services.identity.domain.accounts import iso, own_user, set_password
from services.identity.domain.auth import LoginPolicy, confirm_password
from services.identity.domain.links import EMAIL_LINKS, end_links, new_link, valid_link
from services.identity.domain.revocations import revoke_access
from services.identity.models import EmailPreferences, User

PROFILE_FIELDS = ("first_name", "last_name", "phone", "locale")
DEFAULT_EMAIL_PREFERENCES = {"marketing": False, "order_updates": True, "report_deliveries": True}


def read_only_username(changes: dict):
    if "username" in changes:
        raise Invalid("the username cannot be changed", code="validation_failed",
                      errors={"username": ["The username cannot be changed."]})


def get_me(session, ctx: CallerContext) -> User:
    return own_user(session, ctx)


def update_me(session, ctx: CallerContext, changes: dict, policy=LoginPolicy(),
              now=None) -> User:
    """Name, phone and locale change at once; a new email address waits for its
    confirmation (`pending_email`) and needs `current_password`."""
    read_only_username(changes)
    user = own_user(session, ctx)
    email = changes.get("email")
    if email is not None and email.strip().lower() != (user.email or "").lower():
        request_email_change(session, user, email.strip(), changes.get("current_password"),
                             policy, now)
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name])
    session.flush()
    return user


def request_email_change(session, user: User, new_email, current_password,
                         policy=LoginPolicy(), now=None):
    """Send a confirmation link to the new address and a notice to the old one."""
    now = now or utcnow()
    if not current_password:
        raise Invalid("changing the email needs the current password",
                      code="current_password_required",
                      errors={"current_password": ["Needed to change the email address."]})
    confirm_password(session, user, current_password, policy, now)
    user.pending_email = new_email
    raw, expires_at = new_link(session, user, "confirm_email", now)
    emit(session, SOURCE, "email_change_requested",
         {"user_id": user.id, "old_email": user.email, "new_email": new_email,
          "first_name": user.first_name, "locale": user.locale, "token": raw,
          "expires_at": iso(expires_at)})


def confirm_email(session, raw_token, now=None) -> User:
    """The link sent to a new address was used: it becomes the account's address."""
    now = now or utcnow()
    row = valid_link(session, raw_token, EMAIL_LINKS, now)
    user = session.get(User, row.user_id)
    if not user.pending_email:
        raise Gone("this link is not valid", code="token_invalid")
    user.email, user.pending_email = user.pending_email, None
    row.used_at = now
    session.flush()
    # notifications keeps the address with the preferences it honours
    emit(session, SOURCE, "email_preferences_changed",
         {"user_id": user.id, "email": user.email, "preferences": _preferences(session, user)})
    return user


def cancel_email_change(session, user: User, now=None):
    """The address was set another way (by a security admin): pending links stop working."""
    user.pending_email = None
    end_links(session, user.id, EMAIL_LINKS, now)


def change_password(session, ctx: CallerContext, current_password, new_password,
                    policy=LoginPolicy(), now=None) -> dict:
    """A new password, given the current one; every token of the user is revoked. Returns
    the revocation {user_id, revoked_before}."""
    now = now or utcnow()
    user = own_user(session, ctx)
    confirm_password(session, user, current_password, policy, now)
    set_password(user, new_password, now)
    return revoke_access(session, user.id, now)


def _preferences(session, user: User) -> dict:
    row = email_preferences_of(session, user)
    return {name: getattr(row, name) for name in DEFAULT_EMAIL_PREFERENCES}


def email_preferences_of(session, user: User) -> EmailPreferences:
    """The user's preferences (the defaults, not stored, when they never chose)."""
    return session.get(EmailPreferences, user.id) or \
        EmailPreferences(user_id=user.id, **DEFAULT_EMAIL_PREFERENCES)


def email_preferences(session, ctx: CallerContext) -> EmailPreferences:
    return email_preferences_of(session, own_user(session, ctx))


def set_email_preferences(session, ctx: CallerContext, prefs: dict, now=None) -> EmailPreferences:
    user = own_user(session, ctx)
    row = session.get(EmailPreferences, user.id)
    if row is None:
        row = EmailPreferences(user_id=user.id, **DEFAULT_EMAIL_PREFERENCES)
        session.add(row)
    for name in DEFAULT_EMAIL_PREFERENCES:
        if name in prefs:
            setattr(row, name, bool(prefs[name]))
    row.updated_at = now or utcnow()
    session.flush()
    emit(session, SOURCE, "email_preferences_changed",
         {"user_id": user.id, "email": user.email, "preferences": _preferences(session, user)})
    return row
