"""identity's business rules: logins and lockout, tokens, password resets, rights, company
administration and saved payment cards.

Plain functions on a SQLAlchemy session. Errors are services.common.errors; events go
through the outbox in the caller's transaction. The few rules whose record must outlive an
error reply (a failed login, the reuse of a revoked refresh token) commit before raising.
"""
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update

from services.common.context import CallerContext
from services.common.clock import utcnow
from services.common.errors import (Conflict, Forbidden, Gone, Invalid, Locked, NotFound,
                                    RateLimited, Unauthorized)
from services.common.outbox import emit
from services.common.tokens import ACCESS_TOKEN_SECONDS, issue_access_token, new_signing_key
from services.identity import passwords
from services.identity.grants import FEATURES, ROLES, STANDARD_GROUPS  # noqa: F401
from services.identity.models import (AccessRevocation, Address, BillingAccount, Company,
                                      Credential, EmailPreferences, Group, GroupMember,
                                      GroupRight, LoginAttempt, PaymentCard, RefreshToken,
                                      ResetToken, SigningKey, User, UserRight)

SOURCE = "identity"

MAX_FAILED_LOGINS = 5
PASSWORD_MAX_AGE = timedelta(days=365)
RESET_TOKEN_LIFETIME = timedelta(hours=24)
RESET_REQUESTS_PER_HOUR = 5
REFRESH_TOKEN_LIFETIME = timedelta(days=14)
# an access token lives this long, so a revocation older than this protects nothing more
REVOCATION_MEMORY = timedelta(seconds=ACCESS_TOKEN_SECONDS)
CARD_TERMS_VERSION = "2026-01"
DEFAULT_EMAIL_PREFERENCES = {"marketing": False, "order_updates": True, "report_deliveries": True}


@dataclass(frozen=True)
class LoginPolicy:
    """Rate limits on failed logins, independent of the lockout of an account."""
    window_seconds: int = 900
    max_failures_per_username: int = 10
    max_failures_per_address: int = 100


# ---------------------------------------------------------------- helpers

def iso(dt):
    return None if dt is None else dt.replace(microsecond=0).isoformat() + "Z"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def full_name(user: User) -> str:
    return " ".join(p for p in (user.first_name, user.last_name) if p) or user.username


def person(user: User) -> dict:
    return {"user_id": user.id, "email": user.email, "name": full_name(user),
            "locale": user.locale}


def page(session, stmt, id_column, limit=50, cursor=None):
    """Keyset pagination by id: (rows, next_cursor)."""
    limit = max(1, min(int(limit or 50), 200))
    if cursor:
        try:
            after = int(cursor)
        except (TypeError, ValueError):
            raise Invalid("not a valid cursor", code="invalid_cursor",
                          errors={"cursor": ["Not a valid cursor."]})
        stmt = stmt.where(id_column > after)
    rows = session.scalars(stmt.order_by(id_column).limit(limit + 1)).all()
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _company_user(session, ctx: CallerContext, user_id) -> User:
    user = session.scalar(select(User).where(User.id == user_id,
                                             User.company_id == ctx.company_id))
    if user is None or ctx.company_id is None:
        raise NotFound("no such user")
    return user


def _self(session, ctx: CallerContext) -> User:
    """The caller's own user (company user or staff)."""
    user = session.get(User, ctx.user_id) if ctx.user_id is not None else None
    if user is None or (user.company_id != ctx.company_id):
        raise NotFound("no such user")
    return user


# ---------------------------------------------------------------- rights

def user_grants(session, user_id) -> dict:
    rows = session.execute(select(UserRight.kind, UserRight.value)
                           .where(UserRight.user_id == user_id)).all()
    return _grants_dict(rows)


def group_grants(session, group_id) -> dict:
    rows = session.execute(select(GroupRight.kind, GroupRight.value)
                           .where(GroupRight.group_id == group_id)).all()
    return _grants_dict(rows)


def _grants_dict(rows) -> dict:
    out = {"roles": set(), "features": set(), "catalog_ids": set()}
    for kind, value in rows:
        if kind == "role":
            out["roles"].add(value)
        elif kind == "feature":
            out["features"].add(value)
        elif kind == "catalog":
            out["catalog_ids"].add(int(value))
    return {k: sorted(v) for k, v in out.items()}


def effective_rights(session, user_id) -> dict:
    """A user's rights: the union of their own grants and those of their groups."""
    own = select(UserRight.kind, UserRight.value).where(UserRight.user_id == user_id)
    via_groups = (select(GroupRight.kind, GroupRight.value)
                  .join(GroupMember, GroupMember.group_id == GroupRight.group_id)
                  .where(GroupMember.user_id == user_id))
    return _grants_dict(session.execute(own.union(via_groups)).all())


def _set_grants(session, model, owner_column, owner_id, roles=None, features=None,
                catalog_ids=None):
    for kind, values in (("role", roles), ("feature", features), ("catalog", catalog_ids)):
        if values is None:
            continue
        session.execute(delete(model).where(getattr(model, owner_column) == owner_id,
                                            model.kind == kind))
        for value in sorted({str(v) for v in values}):
            session.add(model(**{owner_column: owner_id, "kind": kind, "value": value}))
    session.flush()


def user_groups(session, user_id) -> list:
    return session.scalars(select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                           .where(GroupMember.user_id == user_id).order_by(Group.id)).all()


def resolve_groups(session, company_id, refs) -> list:
    """Groups by id or by key, all of this company; 422 for any other."""
    groups, unknown = [], []
    for ref in refs or ():
        if isinstance(ref, int) and not isinstance(ref, bool):
            group = session.scalar(select(Group).where(Group.id == ref,
                                                       Group.company_id == company_id))
        else:
            group = session.scalar(select(Group).where(Group.key == str(ref),
                                                       Group.company_id == company_id))
        if group is None:
            unknown.append(ref)
        elif group not in groups:
            groups.append(group)
    if unknown:
        raise Invalid("unknown group", code="unknown_group",
                      errors={"groups": [f"Unknown group: {ref}." for ref in unknown]})
    return groups


def _set_membership(session, user_id, groups):
    session.execute(delete(GroupMember).where(GroupMember.user_id == user_id))
    for group in groups:
        session.add(GroupMember(group_id=group.id, user_id=user_id))
    session.flush()


def revoke_sessions(session, user_id, now=None):
    """Revoke every refresh token of the user."""
    session.execute(update(RefreshToken)
                    .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now or utcnow()))


def revoke_access(session, user_id, now=None):
    """Refuse the user's current access tokens (the gateway learns it from `access_revoked`)
    and revoke their refresh tokens: rights changed or the account was disabled."""
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
    emit(session, SOURCE, "access_revoked", {"user_id": user_id, "revoked_before": revoked_before})
    return revoked_before


def recent_revocations(session, now=None) -> dict:
    """{user_id: revoked_before} for revocations that can still matter."""
    since = (now or utcnow()) - REVOCATION_MEMORY
    rows = session.execute(select(AccessRevocation.user_id, AccessRevocation.revoked_before)
                           .where(AccessRevocation.created_at >= since)).all()
    return {str(user_id): revoked_before for user_id, revoked_before in rows}


def _revoke_if_rights_changed(session, user_ids, before: dict, now=None):
    for user_id in user_ids:
        if effective_rights(session, user_id) != before.get(user_id):
            revoke_access(session, user_id, now)


# ---------------------------------------------------------------- signing keys and tokens

def signing_key(session) -> SigningKey:
    """The key that signs new access tokens, created on first need."""
    key = session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))
                         .order_by(SigningKey.id.desc()).limit(1))
    if key is None:
        private_pem, public_pem = new_signing_key()
        key = SigningKey(kid=uuid.uuid4().hex, private_pem=private_pem, public_pem=public_pem,
                         created_at=utcnow())
        session.add(key)
        session.flush()
    return key


def public_keys(session) -> list:
    signing_key(session)
    keys = session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))
                           .order_by(SigningKey.id)).all()
    return [{"kid": k.kid, "public_key": k.public_pem} for k in keys]


def caller_context(session, user: User) -> CallerContext:
    rights = effective_rights(session, user.id) if not user.is_staff else \
        {"roles": [], "features": [], "catalog_ids": []}
    company = session.get(Company, user.company_id) if user.company_id is not None else None
    return CallerContext(user_id=user.id, company_id=user.company_id, roles=rights["roles"],
                         features=rights["features"], catalog_ids=rights["catalog_ids"],
                         staff=bool(user.is_staff), locale=user.locale, email=user.email,
                         name=full_name(user), currency=company.currency if company else None)


def _issue_time(session, user_id, sleep=time.sleep) -> float:
    # Tokens are stamped in whole seconds and a stamp equal to revoked_before is refused:
    # a token issued in the second of a revocation must wait for the next second.
    revoked_before = session.scalar(select(AccessRevocation.revoked_before)
                                    .where(AccessRevocation.user_id == user_id))
    now = time.time()
    if revoked_before is not None and int(now) <= revoked_before:
        sleep(min(2.0, revoked_before + 1.01 - now))
        now = time.time()
    return now


def issue_tokens(session, user: User, family_id=None, now=None) -> dict:
    """A new access token and refresh token (in the family of the login, or a new one)."""
    now = now or utcnow()
    key = signing_key(session)
    access = issue_access_token(caller_context(session, user), key.private_pem, key.kid,
                                now=_issue_time(session, user.id))
    raw = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=digest(raw), user_id=user.id,
                             family_id=family_id or uuid.uuid4().hex, created_at=now,
                             expires_at=now + REFRESH_TOKEN_LIFETIME))
    session.flush()
    return {"access_token": access, "refresh_token": raw, "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS, "user": profile(session, user)}


# ---------------------------------------------------------------- login

def _record_attempt(session, username, client_address, succeeded, outcome, now):
    session.add(LoginAttempt(username=username[:64], client_address=(client_address or None),
                             succeeded=succeeded, outcome=outcome, at=now))


def _failed(session, username, client_address, now, error):
    # the attempt, the failure count and the lock must survive the error reply
    _record_attempt(session, username, client_address, False, error.code, now)
    session.commit()
    raise error


def check_rate(session, username, client_address, policy: LoginPolicy, now):
    """429 when too many logins failed lately for this username or from this address."""
    since = now - timedelta(seconds=policy.window_seconds)
    checks = [(LoginAttempt.username == username, policy.max_failures_per_username)]
    if client_address:
        checks.append((LoginAttempt.client_address == client_address,
                       policy.max_failures_per_address))
    retry_after = 0
    for condition, limit in checks:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.at))
            .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)).one()
        if count >= limit:
            # allowed again once enough failures have left the window
            nth = session.scalar(select(LoginAttempt.at)
                                 .where(condition, LoginAttempt.succeeded.is_(False),
                                        LoginAttempt.at > since)
                                 .order_by(LoginAttempt.at.desc()).offset(limit - 1).limit(1))
            free_at = (nth or oldest) + timedelta(seconds=policy.window_seconds)
            retry_after = max(retry_after, int((free_at - now).total_seconds()) + 1)
    if retry_after:
        raise RateLimited("too many failed logins; retry later", code="rate_limited",
                          extra={"retry_after": retry_after})


def password_expired(user: User, now) -> bool:
    last = max((d for d in (user.last_login_at, user.password_changed_at) if d is not None),
               default=user.created_at)
    return last is not None and now - last > PASSWORD_MAX_AGE


def login(session, username, password, client_address=None, policy=LoginPolicy(), now=None):
    """Check a username and password; returns the user, or raises (401 invalid_credentials,
    423 account_locked, 403 account_disabled / password_expired, 429 rate_limited)."""
    now = now or utcnow()
    key = normalise_username(username)
    check_rate(session, key, client_address, policy, now)
    user = session.scalar(select(User).where(User.username == key))
    invalid = Unauthorized("wrong username or password", code="invalid_credentials")
    if user is None or user.credential is None:
        # no such user (or no password yet): spend the same time as a wrong password
        session.commit()
        passwords.spend_verification_time(password or "")
        _failed(session, key, client_address, now, invalid)
    if user.locked_at is not None:
        _failed(session, key, client_address, now,
                Locked("account locked after too many failed logins", code="account_locked"))
    password_hash = user.credential.password_hash
    # End the transaction before the slow hash: the connection (on SQLite the only one of
    # the process, with its write lock) serves other requests meanwhile.
    session.commit()
    verified = passwords.verify_password(password_hash, password or "")
    session.refresh(user)  # a lock or a disabling that happened meanwhile counts
    if not verified:
        # in the database, so that concurrent failures all count
        session.execute(update(User).where(User.id == user.id)
                        .values(failed_logins=User.failed_logins + 1))
        session.refresh(user, ["failed_logins"])
        if user.failed_logins >= MAX_FAILED_LOGINS:
            if user.locked_at is None:  # a concurrent failure may have locked it already
                user.locked_at = now
                emit(session, SOURCE, "user_locked", {"user_id": user.id, "email": user.email,
                                                      "first_name": user.first_name,
                                                      "locale": user.locale})
            _failed(session, key, client_address, now,
                    Locked("account locked after too many failed logins", code="account_locked"))
        _failed(session, key, client_address, now, invalid)
    if user.locked_at is not None:
        _failed(session, key, client_address, now,
                Locked("account locked after too many failed logins", code="account_locked"))
    # Only someone who knows the password learns these.
    if user.status != "active":
        _failed(session, key, client_address, now,
                Forbidden("this account is disabled", code="account_disabled"))
    if password_expired(user, now):
        _failed(session, key, client_address, now,
                Forbidden("no login for a year: reset the password", code="password_expired"))
    if passwords.needs_rehash(user.credential.password_hash):
        user.credential.password_hash = passwords.hash_password(password)
        user.credential.updated_at = now
    user.failed_logins = 0
    user.last_login_at = now
    _record_attempt(session, key, client_address, True, "ok", now)
    session.flush()
    return user


def refresh(session, raw_token, now=None) -> dict:
    """Rotate a refresh token: the old one is revoked, a new pair is issued. Presenting a
    revoked token again revokes its whole family (someone may have stolen it)."""
    now = now or utcnow()
    row = session.scalar(select(RefreshToken)
                         .where(RefreshToken.token_hash == digest(raw_token or ""))
                         .with_for_update())
    if row is None:
        raise Unauthorized("unknown refresh token", code="invalid_refresh_token")
    if row.revoked_at is not None:
        revoke_family(session, row.family_id, now)
        session.commit()
        raise Unauthorized("this refresh token was revoked", code="refresh_token_revoked")
    if row.expires_at <= now:
        raise Unauthorized("this refresh token has expired", code="refresh_token_expired")
    user = session.get(User, row.user_id)
    if user.status != "active":
        revoke_family(session, row.family_id, now)
        session.commit()
        raise Forbidden("this account is disabled", code="account_disabled")
    if user.locked_at is not None:
        raise Locked("account locked after too many failed logins", code="account_locked")
    row.revoked_at = now
    return issue_tokens(session, user, family_id=row.family_id, now=now)


def revoke_family(session, family_id, now=None):
    session.execute(update(RefreshToken)
                    .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now or utcnow()))


def logout(session, raw_token, now=None):
    """Revoke the refresh token and the rest of its login; unknown tokens are ignored."""
    row = session.scalar(select(RefreshToken)
                         .where(RefreshToken.token_hash == digest(raw_token or "")))
    if row is not None:
        revoke_family(session, row.family_id, now)


# ---------------------------------------------------------------- passwords and recovery

def check_password(password, username=None, field="new_password"):
    problems = passwords.policy_problems(password, username)
    if problems:
        raise Invalid("this password is not acceptable", code="weak_password",
                      errors={field: problems})


def set_password(session, user: User, password, now=None):
    now = now or utcnow()
    check_password(password, user.username)
    hashed = passwords.hash_password(password)
    if user.credential is None:
        user.credential = Credential(password_hash=hashed, updated_at=now)
    else:
        user.credential.password_hash = hashed
        user.credential.updated_at = now
    user.password_changed_at = now


def new_reset_token(session, user: User, purpose, now=None):
    """A one-time link token: (raw token, expires_at). Earlier unused links stop working."""
    now = now or utcnow()
    session.execute(update(ResetToken)
                    .where(ResetToken.user_id == user.id, ResetToken.used_at.is_(None),
                           ResetToken.expires_at > now)
                    .values(expires_at=now))
    raw = secrets.token_urlsafe(32)
    expires_at = now + RESET_TOKEN_LIFETIME
    session.add(ResetToken(token_hash=digest(raw), user_id=user.id, purpose=purpose,
                           created_at=now, expires_at=expires_at))
    session.flush()
    return raw, expires_at


def forgot_username(session, email):
    """Email the usernames tied to an address; says nothing either way."""
    address = (email or "").strip().lower()
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
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None or user.status != "active" or not user.email:
        return
    recent = session.scalar(select(func.count()).select_from(ResetToken)
                            .where(ResetToken.user_id == user.id,
                                   ResetToken.purpose == "reset_password",
                                   ResetToken.created_at > now - timedelta(hours=1)))
    if recent >= RESET_REQUESTS_PER_HOUR:
        return  # enough links already: do not flood the mailbox
    raw, expires_at = new_reset_token(session, user, "reset_password", now)
    emit(session, SOURCE, "password_reset_requested",
         {"user_id": user.id, "email": user.email, "first_name": user.first_name,
          "locale": user.locale, "token": raw, "expires_at": iso(expires_at)})


def reset_password(session, raw_token, new_password, now=None):
    """Set a password from a one-time link (first password or reset); unlocks the account."""
    now = now or utcnow()
    row = session.scalar(select(ResetToken).where(ResetToken.token_hash == digest(raw_token or ""))
                         .with_for_update())
    if row is None:
        raise Gone("this link is not valid", code="token_invalid")
    if row.used_at is not None:
        raise Gone("this link was already used", code="token_used")
    if row.expires_at <= now:
        raise Gone("this link has expired", code="token_expired")
    user = session.get(User, row.user_id)
    set_password(session, user, new_password, now)
    row.used_at = now
    user.failed_logins = 0
    user.locked_at = None
    revoke_sessions(session, user.id, now)
    session.flush()


def change_password(session, ctx: CallerContext, current_password, new_password, now=None):
    user = _self(session, ctx)
    if user.credential is None or not passwords.verify_password(user.credential.password_hash,
                                                                current_password or ""):
        raise Invalid("the current password is wrong", code="wrong_password",
                      errors={"current_password": ["The current password is wrong."]})
    set_password(session, user, new_password, now)


# ---------------------------------------------------------------- own account

def profile(session, user: User) -> dict:
    rights = effective_rights(session, user.id)
    return {"id": user.id, "username": user.username, "email": user.email,
            "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
            "locale": user.locale, "status": user.status, "company_id": user.company_id,
            "is_staff": bool(user.is_staff),
            "groups": [{"id": g.id, "key": g.key, "name": g.name}
                       for g in user_groups(session, user.id)],
            "roles": rights["roles"], "features": rights["features"],
            "catalog_ids": rights["catalog_ids"], "last_login_at": iso(user.last_login_at)}


def get_me(session, ctx: CallerContext) -> dict:
    return profile(session, _self(session, ctx))


PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "locale")


def update_me(session, ctx: CallerContext, changes: dict) -> dict:
    if "username" in changes:
        raise Invalid("the username cannot be changed", code="validation_failed",
                      errors={"username": ["The username cannot be changed."]})
    user = _self(session, ctx)
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name])
    session.flush()
    return profile(session, user)


def email_preferences(session, ctx: CallerContext) -> dict:
    user = _self(session, ctx)
    row = session.get(EmailPreferences, user.id)
    if row is None:
        return dict(DEFAULT_EMAIL_PREFERENCES)
    return {"marketing": row.marketing, "order_updates": row.order_updates,
            "report_deliveries": row.report_deliveries}


def set_email_preferences(session, ctx: CallerContext, prefs: dict, now=None) -> dict:
    user = _self(session, ctx)
    row = session.get(EmailPreferences, user.id)
    if row is None:
        row = EmailPreferences(user_id=user.id, **DEFAULT_EMAIL_PREFERENCES)
        session.add(row)
    for name in DEFAULT_EMAIL_PREFERENCES:
        if name in prefs:
            setattr(row, name, bool(prefs[name]))
    row.updated_at = now or utcnow()
    session.flush()
    result = {"marketing": row.marketing, "order_updates": row.order_updates,
              "report_deliveries": row.report_deliveries}
    emit(session, SOURCE, "email_preferences_changed",
         {"user_id": user.id, "email": user.email, "preferences": result})
    return result


# ---------------------------------------------------------------- payment cards

def card_view(card: PaymentCard) -> dict:
    return {"id": card.id, "brand": card.brand, "last4": card.last4,
            "exp_month": card.exp_month, "exp_year": card.exp_year,
            "holder_first_name": card.holder_first_name,
            "holder_last_name": card.holder_last_name, "nickname": card.nickname,
            "consent_at": iso(card.consent_at), "terms_version": card.terms_version,
            "created_at": iso(card.created_at)}


def check_consent(record: dict):
    if record.get("consent") is not True:
        raise Invalid("consent is required to save a card", code="consent_required",
                      errors={"consent": ["You must agree to the saved-card terms."]})


def add_card(session, ctx: CallerContext, record: dict, now=None) -> dict:
    """Save a card the payment gateway has tokenized; consent is required."""
    now = now or utcnow()
    if ctx.company_id is None:
        raise Forbidden("cards belong to company users")
    check_consent(record)
    missing = [f for f in ("holder_first_name", "holder_last_name", "nickname", "gateway_token",
                           "brand", "last4") if not str(record.get(f) or "").strip()]
    if missing:
        raise Invalid("missing card details", errors={f: ["Missing data for required field."]
                                                      for f in missing})
    user = _self(session, ctx)
    card = PaymentCard(user_id=user.id, company_id=user.company_id, brand=record["brand"],
                       last4=record["last4"], exp_month=int(record["exp_month"]),
                       exp_year=int(record["exp_year"]),
                       holder_first_name=record["holder_first_name"].strip(),
                       holder_last_name=record["holder_last_name"].strip(),
                       nickname=record["nickname"].strip(), consent_at=now,
                       terms_version=record.get("terms_version") or CARD_TERMS_VERSION,
                       gateway_token=record["gateway_token"], created_at=now)
    session.add(card)
    session.flush()
    emit(session, SOURCE, "card_added", {"user_id": user.id, "company_id": user.company_id,
                                         "card_id": card.id})
    return card_view(card)


def _cards_of(ctx: CallerContext):
    return select(PaymentCard).where(PaymentCard.user_id == ctx.user_id,
                                     PaymentCard.company_id == ctx.company_id,
                                     PaymentCard.removed_at.is_(None))


def list_cards(session, ctx: CallerContext, limit=50, cursor=None) -> dict:
    rows, next_cursor = page(session, _cards_of(ctx), PaymentCard.id, limit, cursor)
    return {"items": [card_view(c) for c in rows], "next_cursor": next_cursor}


def remove_card(session, ctx: CallerContext, card_id, now=None):
    card = session.scalar(_cards_of(ctx).where(PaymentCard.id == card_id))
    if card is None:
        raise NotFound("no such card")
    card.removed_at = now or utcnow()
    card.gateway_token = None  # the consent ends with the card
    emit(session, SOURCE, "card_removed", {"user_id": card.user_id, "company_id": card.company_id,
                                           "card_id": card.id})


def charge_card(session, ctx: CallerContext, card_id, amount: dict, idempotency_key: str,
                gateway, today=None) -> dict:
    """Charge a saved card of the caller (renewals run as the card's owner): it must carry
    the owner's consent and not have expired."""
    card = session.scalar(_cards_of(ctx).where(PaymentCard.id == card_id,
                                               PaymentCard.removed_at.is_(None)))
    if card is None or not card.gateway_token or card.consent_at is None:
        raise Invalid("this card no longer carries the owner's consent",
                      code="card_consent_missing")
    today = today or utcnow().date()
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise Invalid("this card has expired", code="card_expired")
    charge_id = gateway.charge(card.gateway_token, amount, idempotency_key)
    return {"charge_id": charge_id, "card_id": card.id, "brand": card.brand, "last4": card.last4}


def get_card(session, ctx: CallerContext, card_id) -> dict:
    """A saved card for payment: the caller's own, or any for the platform itself."""
    stmt = select(PaymentCard).where(PaymentCard.id == card_id, PaymentCard.removed_at.is_(None))
    if not (ctx.staff and ctx.company_id is None and ctx.user_id is None):
        stmt = stmt.where(PaymentCard.user_id == ctx.user_id,
                          PaymentCard.company_id == ctx.company_id)
    card = session.scalar(stmt)
    if card is None:
        raise NotFound("no such card")
    return dict(card_view(card), user_id=card.user_id, company_id=card.company_id,
                gateway_token=card.gateway_token)


# ---------------------------------------------------------------- companies

def address_view(a: Address) -> dict:
    return {"id": a.id, "kind": a.kind, "name": a.name, "line1": a.line1, "line2": a.line2,
            "city": a.city, "region": a.region, "postal_code": a.postal_code,
            "country": a.country}


def billing_account_view(b: BillingAccount) -> dict:
    return {"id": b.id, "account_number": b.account_number, "name": b.name,
            "primary": bool(b.is_primary)}


def company_view(session, company: Company) -> dict:
    accounts = session.scalars(select(BillingAccount).where(BillingAccount.company_id == company.id)
                               .order_by(BillingAccount.id)).all()
    addresses = session.scalars(select(Address).where(Address.company_id == company.id)
                                .order_by(Address.id)).all()
    return {"id": company.id, "name": company.name, "customer_number": company.customer_number,
            "currency": company.currency,
            "billing_accounts": [billing_account_view(b) for b in accounts],
            "addresses": [address_view(a) for a in addresses]}


def get_company(session, ctx: CallerContext, company_id=None) -> dict:
    """The caller's company (staff may name one)."""
    wanted = company_id if (ctx.staff and company_id is not None) else ctx.company_id
    company = session.get(Company, wanted) if wanted is not None else None
    if company is None:
        raise NotFound("no such company")
    return company_view(session, company)


def create_standard_groups(session, company: Company) -> dict:
    groups = {}
    for key, spec in STANDARD_GROUPS.items():
        group = Group(company_id=company.id, key=key, name=spec["name"], standard=True,
                      created_at=utcnow())
        session.add(group)
        session.flush()
        _set_grants(session, GroupRight, "group_id", group.id, roles=spec["roles"],
                    features=spec["features"], catalog_ids=())
        groups[key] = group
    return groups


def create_company(session, data: dict, now=None) -> dict:
    """A company, its primary billing account, the standard groups and its first
    administrator (who gets a set-password email)."""
    now = now or utcnow()
    number = data["customer_number"].strip()
    if session.scalar(select(Company).where(Company.customer_number == number)) is not None:
        raise Conflict("this customer number is taken", code="customer_number_taken",
                       errors={"customer_number": ["Already in use."]})
    if session.scalar(select(BillingAccount).where(BillingAccount.account_number == number)):
        raise Conflict("a billing account has this number", code="account_number_taken",
                       errors={"customer_number": ["Already a billing account."]})
    company = Company(name=data["name"].strip(), customer_number=number,
                      currency=data["currency"].upper(), created_at=now)
    session.add(company)
    session.flush()
    session.add(BillingAccount(company_id=company.id, account_number=number, name=company.name,
                               is_primary=True, created_at=now))
    for a in data.get("addresses") or ():
        session.add(Address(company_id=company.id, **{k: a.get(k) for k in
                                                      ("kind", "name", "line1", "line2", "city",
                                                       "region", "postal_code", "country")
                                                      if a.get(k) is not None}))
    create_standard_groups(session, company)
    admin = dict(data["admin"], groups=["administrators"])
    admin_view = create_user(session, CallerContext(company_id=company.id, staff=True), admin, now)
    return {"id": company.id, "name": company.name, "customer_number": company.customer_number,
            "currency": company.currency, "admin_user_id": admin_view["id"]}


def link_billing_account(session, company_id, data: dict, now=None) -> dict:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("no such company")
    number = data["account_number"].strip()
    if session.scalar(select(BillingAccount).where(BillingAccount.account_number == number)):
        raise Conflict("this billing account is already linked", code="account_number_taken",
                       errors={"account_number": ["Already linked."]})
    account = BillingAccount(company_id=company.id, account_number=number,
                             name=data["name"].strip(), is_primary=False,
                             created_at=now or utcnow())
    session.add(account)
    session.flush()
    return dict(billing_account_view(account), company_id=company.id)


# ---------------------------------------------------------------- users (security admin)

def user_view(session, user: User) -> dict:
    own = user_grants(session, user.id)
    return {"id": user.id, "username": user.username, "email": user.email,
            "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
            "locale": user.locale, "status": user.status, "locked": user.locked_at is not None,
            "locked_at": iso(user.locked_at), "last_login_at": iso(user.last_login_at),
            "created_at": iso(user.created_at),
            "groups": [{"id": g.id, "key": g.key, "name": g.name}
                       for g in user_groups(session, user.id)],
            "roles": own["roles"], "features": own["features"], "catalog_ids": own["catalog_ids"],
            "effective": effective_rights(session, user.id)}


def list_users(session, ctx: CallerContext, limit=50, cursor=None, q=None, status=None) -> dict:
    stmt = select(User).where(User.company_id == ctx.company_id)
    if status:
        stmt = stmt.where(User.status == status)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like),
                              func.lower(User.email).like(like),
                              func.lower(User.first_name).like(like),
                              func.lower(User.last_name).like(like)))
    rows, next_cursor = page(session, stmt, User.id, limit, cursor)
    return {"items": [user_view(session, u) for u in rows], "next_cursor": next_cursor}


def get_user(session, ctx: CallerContext, user_id) -> dict:
    return user_view(session, _company_user(session, ctx, user_id))


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


def create_user(session, ctx: CallerContext, data: dict, now=None, notify=True) -> dict:
    """A company user, in `users` unless groups are given; they get a set-password email."""
    now = now or utcnow()
    groups = resolve_groups(session, ctx.company_id, data.get("groups") or ["users"])
    user = new_user(session, ctx.company_id, data, now=now)
    _set_membership(session, user.id, groups)
    _set_grants(session, UserRight, "user_id", user.id, roles=data.get("roles"),
                features=data.get("features"), catalog_ids=data.get("catalog_ids"))
    if notify:
        raw, expires_at = new_reset_token(session, user, "set_password", now)
        emit(session, SOURCE, "user_created",
             {"user_id": user.id, "company_id": user.company_id, "username": user.username,
              "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
              "locale": user.locale, "set_password_token": raw,
              "set_password_expires_at": iso(expires_at)})
    return user_view(session, user)


def update_user(session, ctx: CallerContext, user_id, changes: dict, now=None) -> dict:
    """Status, unlock, groups and rights of a company user (and profile fields)."""
    now = now or utcnow()
    if "username" in changes:
        raise Invalid("the username cannot be changed", code="validation_failed",
                      errors={"username": ["The username cannot be changed."]})
    user = _company_user(session, ctx, user_id)
    before = {user.id: effective_rights(session, user.id)}
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name])
    if changes.get("unlock"):
        user.failed_logins = 0
        user.locked_at = None
    if "groups" in changes:
        _set_membership(session, user.id, resolve_groups(session, ctx.company_id,
                                                         changes["groups"]))
    _set_grants(session, UserRight, "user_id", user.id, roles=changes.get("roles"),
                features=changes.get("features"), catalog_ids=changes.get("catalog_ids"))
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
        _revoke_if_rights_changed(session, [user.id], before, now)
    session.flush()
    return user_view(session, user)


def people(session, ctx: CallerContext, user_ids=(), group_ids=()) -> list:
    """Active users of the caller's company, by id or through their groups, as persons
    {user_id, email, name, locale} (for approvers and other recipients)."""
    ids = {int(i) for i in user_ids or ()}
    if group_ids:
        ids |= set(session.scalars(
            select(GroupMember.user_id).join(Group, Group.id == GroupMember.group_id)
            .where(Group.company_id == ctx.company_id,
                   Group.id.in_([int(g) for g in group_ids]))).all())
    if not ids:
        return []
    users = session.scalars(select(User).where(User.id.in_(ids), User.company_id == ctx.company_id,
                                              User.status == "active").order_by(User.id)).all()
    return [person(u) for u in users]


def group_ids_of(session, ctx: CallerContext, user_id) -> list:
    """The ids of the groups a user of the caller's company belongs to (approval workflows
    name buyers and approvers by group)."""
    return list(session.scalars(
        select(GroupMember.group_id).join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id == int(user_id), Group.company_id == ctx.company_id)
        .order_by(GroupMember.group_id)).all())


def people_with_role(session, ctx: CallerContext, role: str) -> list:
    """Active users of the caller's company holding `role` themselves or through a group,
    as persons (e.g. the PAS admins an approval escalates to)."""
    own = select(UserRight.user_id).where(UserRight.kind == "role", UserRight.value == role)
    via_groups = (select(GroupMember.user_id)
                  .join(GroupRight, GroupRight.group_id == GroupMember.group_id)
                  .where(GroupRight.kind == "role", GroupRight.value == role))
    users = session.scalars(select(User).where(User.company_id == ctx.company_id,
                                              User.status == "active",
                                              User.id.in_(own.union(via_groups)))
                            .order_by(User.id)).all()
    return [person(u) for u in users]


# ---------------------------------------------------------------- groups

def group_view(session, group: Group) -> dict:
    grants = group_grants(session, group.id)
    members = session.scalar(select(func.count()).select_from(GroupMember)
                             .where(GroupMember.group_id == group.id))
    return {"id": group.id, "key": group.key, "name": group.name, "standard": bool(group.standard),
            "roles": grants["roles"], "features": grants["features"],
            "catalog_ids": grants["catalog_ids"], "member_count": members}


def _company_group(session, ctx: CallerContext, group_id) -> Group:
    group = session.scalar(select(Group).where(Group.id == group_id,
                                               Group.company_id == ctx.company_id))
    if group is None or ctx.company_id is None:
        raise NotFound("no such group")
    return group


def _members(session, group_id) -> list:
    return session.scalars(select(GroupMember.user_id)
                           .where(GroupMember.group_id == group_id)).all()


def list_groups(session, ctx: CallerContext, limit=50, cursor=None) -> dict:
    rows, next_cursor = page(session, select(Group).where(Group.company_id == ctx.company_id),
                             Group.id, limit, cursor)
    return {"items": [group_view(session, g) for g in rows], "next_cursor": next_cursor}


def _check_group_name(session, company_id, name, key=None, exclude_id=None):
    same_name = select(Group.id).where(Group.company_id == company_id,
                                       func.lower(Group.name) == name.lower())
    if exclude_id is not None:
        same_name = same_name.where(Group.id != exclude_id)
    if session.scalar(same_name) is not None:
        raise Conflict("a group has this name", code="group_name_taken",
                       errors={"name": ["Already used by another group."]})
    if key is not None:
        if key in STANDARD_GROUPS or session.scalar(
                select(Group.id).where(Group.company_id == company_id, Group.key == key)):
            raise Conflict("a group has this key", code="group_key_taken",
                           errors={"key": ["Already used by another group."]})


def create_group(session, ctx: CallerContext, data: dict) -> dict:
    name = data["name"].strip()
    key = data.get("key")
    _check_group_name(session, ctx.company_id, name, key)
    group = Group(company_id=ctx.company_id, key=key, name=name, standard=False,
                  created_at=utcnow())
    session.add(group)
    session.flush()
    _set_grants(session, GroupRight, "group_id", group.id, roles=data.get("roles") or (),
                features=data.get("features") or (), catalog_ids=data.get("catalog_ids") or ())
    return group_view(session, group)


def update_group(session, ctx: CallerContext, group_id, changes: dict, now=None) -> dict:
    group = _company_group(session, ctx, group_id)
    if "key" in changes and changes["key"] != group.key:
        raise Invalid("the key of a group cannot be changed", errors={"key": ["Read-only."]})
    members = _members(session, group.id)
    before = {m: effective_rights(session, m) for m in members}
    if "name" in changes:
        name = changes["name"].strip()
        _check_group_name(session, ctx.company_id, name, exclude_id=group.id)
        group.name = name
    _set_grants(session, GroupRight, "group_id", group.id, roles=changes.get("roles"),
                features=changes.get("features"), catalog_ids=changes.get("catalog_ids"))
    _revoke_if_rights_changed(session, members, before, now)
    return group_view(session, group)


def delete_group(session, ctx: CallerContext, group_id, now=None):
    group = _company_group(session, ctx, group_id)
    if group.standard:
        raise Conflict("standard groups cannot be deleted", code="standard_group")
    members = _members(session, group.id)
    before = {m: effective_rights(session, m) for m in members}
    session.execute(delete(GroupRight).where(GroupRight.group_id == group.id))
    session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
    session.delete(group)
    session.flush()
    _revoke_if_rights_changed(session, members, before, now)


# ---------------------------------------------------------------- housekeeping

def prune(session, now=None):
    """Forget what no rule needs any more: old login attempts, dead tokens, old revocations."""
    now = now or utcnow()
    day_ago = now - timedelta(days=1)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < day_ago))
    session.execute(delete(RefreshToken).where(RefreshToken.expires_at < day_ago))
    session.execute(delete(ResetToken).where(ResetToken.expires_at < now - timedelta(days=7)))
    session.execute(delete(AccessRevocation).where(AccessRevocation.created_at < day_ago))
