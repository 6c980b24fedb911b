"""The identity service: logins and tokens, own account, payment cards, company
administration and back-office company creation, as RPC for the gateway and for orders.

Entrypoints load the payload through identity's schemas, call the domain and dump its reply
through the output schemas. The gateway checks rights before calling; the administrative
methods check them again, so that no other caller can skip them.
"""
import functools

from eventlet import tpool
from nameko.timer import timer

from services.common.access import require_role, require_staff, require_user
from services.common.base import ServiceBase
from services.common.caller_auth import current_publisher, grant_service_token
from services.common.config import env
from services.common.entrypoints import rpc
from services.common.errors import DomainError
from services.common.idempotency import once
from services.common.schemas import dump_page, load, load_args, page_args
from services.identity import passwords, punchout_sessions, schemas as s
from services.identity.domain import (auth, cards, companies, company_users, directory, groups,
                                      housekeeping, profile, recovery, revocations, tokens)
from services.identity.messages import localize
from services.identity.models import Base
from services.identity.payments import payment_gateway
from services.identity.signing_keys import SigningKeys

# argon2 releases the GIL: hashing in real threads keeps the other green threads running
passwords.offload(tpool.execute)

ME, TOKEN_PAIR, CARD, CARDS = s.MeSchema(), s.TokenPairSchema(), s.PaymentCardSchema(), \
    s.PaymentCardListSchema()
USER, USERS, GROUP, GROUPS = s.CompanyUserSchema(), s.CompanyUserListSchema(), s.GroupSchema(), \
    s.CompanyGroupListSchema()
PEOPLE = s.PersonSchema(many=True)


def login_policy() -> auth.LoginPolicy:
    return auth.LoginPolicy(
        window_seconds=int(env("LOGIN_RATE_WINDOW_SECONDS", "900")),
        max_failures_per_username=int(env("LOGIN_MAX_FAILURES_PER_USERNAME", "10")),
        max_failures_per_address=int(env("LOGIN_MAX_FAILURES_PER_ADDRESS", "100")))


def localized(fn):
    """Word domain errors in the caller's language, and keep their `errors` a mapping."""
    @functools.wraps(fn)
    def wrapper(self, ctx, *args, **kwargs):
        try:
            return fn(self, ctx, *args, **kwargs)
        except DomainError as original:
            exc = localize(original, ctx.locale)
            if exc.errors is None:
                # nameko sends None as the string "None", which the gateway would show as
                # the problem's `errors`; an empty mapping crosses intact
                exc = type(exc)(exc.detail, exc.code, {}, exc.status, exc.extra)
            exc.keeps_changes = original.keeps_changes
            raise exc
    return wrapper


class IdentityService(ServiceBase, name="identity", models=Base):
    keys = SigningKeys()

    # ---- authentication
    @rpc
    @localized
    def login(self, ctx, username, password, client_address=None):
        given = load_args(s.LoginSchema(), username=username, password=password)
        username, password = given["username"], given["password"]
        # end the read-only transaction before the slow hash: the connection (on SQLite the
        # process's only one, with its write lock) serves other requests meanwhile
        user = auth.login(self.db, username, password, client_address, policy=login_policy(),
                          before_hash=self.db.rollback)
        return TOKEN_PAIR.dump(tokens.issue_tokens(self.db, user, self.keys))

    @rpc
    @localized
    def refresh(self, ctx, refresh_token):
        refresh_token = load_args(s.RefreshTokenSchema(), refresh_token=refresh_token)["refresh_token"]
        return TOKEN_PAIR.dump(tokens.refresh(self.db, refresh_token, self.keys))

    @rpc
    @localized
    def logout(self, ctx, refresh_token):
        refresh_token = load_args(s.RefreshTokenSchema(), refresh_token=refresh_token)["refresh_token"]
        tokens.logout(self.db, refresh_token)

    @rpc(token_free=True)
    @localized
    def public_keys(self, ctx):
        return tokens.public_keys(self.keys)

    @rpc(token_free=True)
    def service_token(self, ctx, service):
        """A short-lived token for the work `service` does by itself, given to that
        service's RabbitMQ user only (services/common/caller_auth.py)."""
        return grant_service_token(service, current_publisher(), self.keys.signing())

    @rpc
    @localized
    def revocations(self, ctx):
        return revocations.recent_revocations(self.db)

    @rpc
    @localized
    def forgot_username(self, ctx, email):
        email = load_args(s.ForgotUsernameSchema(), email=email)["email"]
        recovery.forgot_username(self.db, email)

    @rpc
    @localized
    def forgot_password(self, ctx, username):
        username = load_args(s.ForgotPasswordSchema(), username=username)["username"]
        recovery.forgot_password(self.db, username)

    @rpc
    @localized
    def reset_password(self, ctx, token, new_password):
        """Returns the revocation of the user's tokens {user_id, revoked_before}, or None."""
        given = load_args(s.ResetPasswordSchema(), token=token, new_password=new_password)
        token, new_password = given["token"], given["new_password"]
        return recovery.reset_password(self.db, token, new_password)

    @rpc
    @localized
    def confirm_email(self, ctx, token):
        token = load_args(s.ConfirmEmailSchema(), token=token)["token"]
        profile.confirm_email(self.db, token)

    # ---- own account
    @rpc
    @localized
    def get_me(self, ctx):
        require_user(ctx)
        return ME.dump(profile.get_me(self.db, ctx))

    @rpc
    @localized
    def update_me(self, ctx, changes):
        require_user(ctx)
        changes = load(s.ProfileUpdateSchema(), changes)
        return ME.dump(profile.update_me(self.db, ctx, changes, login_policy()))

    @rpc
    @localized
    def change_password(self, ctx, current_password, new_password):
        """Returns the revocation of the user's tokens {user_id, revoked_before}."""
        require_user(ctx)
        given = load_args(s.ChangePasswordSchema(), current_password=current_password,
                          new_password=new_password)
        current_password, new_password = given["current_password"], given["new_password"]
        return profile.change_password(self.db, ctx, current_password, new_password,
                                       login_policy())

    @rpc
    @localized
    def get_email_preferences(self, ctx):
        require_user(ctx)
        return s.EmailPreferencesSchema().dump(profile.email_preferences(self.db, ctx))

    @rpc
    @localized
    def set_email_preferences(self, ctx, preferences):
        require_user(ctx)
        prefs = load(s.EmailPreferencesSchema(), preferences)
        return s.EmailPreferencesSchema().dump(profile.set_email_preferences(self.db, ctx, prefs))

    # ---- payment cards (already tokenized: the number and CVC never reach this service)
    @rpc
    @localized
    def list_cards(self, ctx, limit=None, cursor=None):
        require_user(ctx)
        return dump_page(CARDS, cards.list_cards(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    @localized
    def add_card(self, ctx, card, idempotency_key=None):
        require_user(ctx)
        cards.check_consent(card or {})  # first, so that the reply says what is missing
        record = load(s.CardRecordSchema(), card)
        # the token differs on every retry: the request is the card as the user sees it
        request = {k: v for k, v in record.items() if k != "gateway_token"}
        return once(self.db, f"card-add:{ctx.user_id}", idempotency_key, request,
                    lambda: CARD.dump(cards.add_card(self.db, ctx, record)))

    @rpc
    @localized
    def remove_card(self, ctx, card_id):
        require_user(ctx)
        cards.remove_card(self.db, ctx, card_id)

    @rpc
    @localized
    def get_card(self, ctx, card_id):
        return s.SavedCardSchema().dump(cards.get_card(self.db, ctx, card_id))

    @rpc
    @localized
    def charge_card(self, ctx, card_id, amount, idempotency_key):
        """Charge a saved card through the payment gateway (subscription renewals)."""
        return s.ChargeSchema().dump(cards.charge_card(self.db, ctx, card_id, amount,
                                                       idempotency_key, payment_gateway()))

    # ---- company
    @rpc
    @localized
    def get_company(self, ctx, company_id=None):
        return s.CompanySchema().dump(companies.get_company(self.db, ctx, company_id))

    @rpc
    @localized
    def update_company_settings(self, ctx, changes):
        require_role(ctx, "eprocurement_admin")
        changes = load(s.CompanySettingsSchema(), changes)
        return s.CompanySchema().dump(companies.update_settings(self.db, ctx, changes))

    @rpc
    @localized
    def get_people(self, ctx, user_ids=(), group_ids=()):
        return PEOPLE.dump(directory.people(self.db, ctx, user_ids, group_ids))

    @rpc
    @localized
    def company_group_ids(self, ctx, group_ids):
        return directory.company_group_ids(self.db, ctx, group_ids)

    @rpc
    @localized
    def group_ids_of(self, ctx, user_id):
        return directory.group_ids_of(self.db, ctx, user_id)

    @rpc
    @localized
    def people_with_role(self, ctx, role):
        return PEOPLE.dump(directory.people_with_role(self.db, ctx, role))

    @rpc
    @localized
    def list_users(self, ctx, limit=None, cursor=None, q=None, status=None):
        require_role(ctx, "security_admin")
        w = load_args(s.UserListQuerySchema(), limit=limit, cursor=cursor, q=q, status=status)
        return dump_page(USERS, company_users.list_users(self.db, ctx, w["limit"], w["cursor"],
                                                         w.get("q"), w.get("status")))

    @rpc
    @localized
    def get_user(self, ctx, user_id):
        require_role(ctx, "security_admin")
        return USER.dump(company_users.get_user(self.db, ctx, user_id))

    @rpc
    @localized
    def create_user(self, ctx, data, idempotency_key=None):
        require_role(ctx, "security_admin")
        data = load(s.UserCreateSchema(), data)
        return once(self.db, f"user-create:{ctx.company_id}", idempotency_key, data,
                    lambda: USER.dump(company_users.create_user(self.db, ctx, data)))

    @rpc
    @localized
    def update_user(self, ctx, user_id, changes):
        require_role(ctx, "security_admin")
        changes = load(s.UserUpdateSchema(), changes)
        return USER.dump(company_users.update_user(self.db, ctx, user_id, changes))

    @rpc
    @localized
    def list_groups(self, ctx, limit=None, cursor=None):
        require_role(ctx, "security_admin")
        return dump_page(GROUPS, groups.list_groups(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    @localized
    def create_group(self, ctx, data):
        require_role(ctx, "security_admin")
        data = load(s.CompanyGroupSchema(), data)
        return GROUP.dump(groups.create_group(self.db, ctx, data))

    @rpc
    @localized
    def update_group(self, ctx, group_id, changes):
        require_role(ctx, "security_admin")
        changes = load(s.GroupUpdateSchema(), changes)
        return GROUP.dump(groups.update_group(self.db, ctx, group_id, changes))

    @rpc
    @localized
    def delete_group(self, ctx, group_id):
        require_role(ctx, "security_admin")
        groups.delete_group(self.db, ctx, group_id)

    @rpc
    @localized
    def punchout_login(self, ctx, company_id, user_id=None, email=None, tokens=True):
        """The user a punch-out session acts as (e-procurement, for the service only):
        {context, user}, and a token pair for the browser when `tokens`."""
        require_staff(ctx)
        return punchout_sessions.punchout_login(self.db, int(company_id), user_id, email,
                                                bool(tokens), keys=self.keys)

    # ---- back office
    @rpc
    @localized
    def list_companies(self, ctx, q=None, limit=50, cursor=None):
        require_staff(ctx)
        query = load(s.CompanyListQuerySchema(), {k: v for k, v in (("q", q), ("limit", limit),
                                                                   ("cursor", cursor)) if v is not None})
        return dump_page(s.CompanyListSchema(), companies.list_companies(
            self.db, query.get("q"), query["limit"], query.get("cursor")))

    @rpc
    @localized
    def list_company_users(self, ctx, company_id, limit=None, cursor=None, q=None, status=None):
        require_staff(ctx)
        w = load_args(s.UserListQuerySchema(), limit=limit, cursor=cursor, q=q, status=status)
        companies.get_company(self.db, ctx, int(company_id))  # 404 for no such company
        return dump_page(USERS, company_users.users_of_company(
            self.db, int(company_id), w["limit"], w["cursor"], w.get("q"), w.get("status")))

    @rpc
    @localized
    def create_company(self, ctx, data, idempotency_key=None):
        require_staff(ctx)
        data = load(s.CompanyCreateSchema(), data)
        return once(self.db, "company-create", idempotency_key, data,
                    lambda: s.CompanyCreatedSchema().dump(companies.create_company(self.db, data)))

    @rpc
    @localized
    def link_billing_account(self, ctx, company_id, data):
        require_staff(ctx)
        data = load(s.BillingAccountSchema(), data)
        return s.BillingAccountSchema().dump(companies.link_billing_account(self.db, company_id,
                                                                              data))

    # ---- housekeeping (plain nameko timer: it commits by itself)
    @timer(interval=3600)
    def prune(self):
        housekeeping.prune(self.db)
        self.db.commit()
