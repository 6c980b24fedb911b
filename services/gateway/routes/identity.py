"""Gateway endpoints of the identity service: authentication, own account, payment cards,
company administration and back-office company creation. identity validates what it
is sent and dumps its replies through the schemas declared here.

Also keeps the gateway's list of revoked access tokens (access_tokens.py) current: the gateway process that relays a password change or reset applies the
revocation identity committed before it replies, so the old tokens are refused from the
next request on; every gateway process hears identity's `access_revoked` events on its own
broadcast queue, and loads identity's recent revocations when it starts and every 30 s
after, which also covers an event missed while the process was disconnected.

Card numbers and CVCs are turned into a payment-gateway token here, at the edge: they never
travel over the broker to any service, and are never logged or echoed.
"""
import ipaddress
import logging

from nameko.timer import timer

from services.common.config import env
from services.common.context import CallerContext
from services.common.entrypoints import broadcast_handler
from services.common.errors import DomainError, Invalid
from services.common.schemas import PageQuery, load
from services.gateway.access_tokens import AccessTokens
from services.gateway.api import endpoint, forward
from services.gateway.rights import AUTHENTICATED, PUBLIC, STAFF, any_of, role
from services.identity.payments import payment_gateway
from services.identity.schemas import (BillingAccountSchema, CardInputSchema,
                                       ChangePasswordSchema, CompanyCreatedSchema,
                                       CompanyCreateSchema, CompanyGroupListSchema,
                                       CompanyListQuerySchema, CompanyListSchema,
                                       CompanySettingsSchema,
                                       CompanyGroupSchema, CompanySchema, CompanyUserListSchema,
                                       CompanyUserSchema, ConfirmEmailSchema,
                                       EmailPreferencesSchema, ForgotPasswordSchema,
                                       ForgotUsernameSchema, GroupSchema, GroupUpdateSchema,
                                       LoginSchema, MeSchema, PaymentCardListSchema,
                                       PaymentCardSchema, ProfileUpdateSchema,
                                       RefreshTokenSchema, ResetPasswordSchema, TokenPairSchema,
                                       UserCreateSchema, UserListQuerySchema, UserUpdateSchema)

log = logging.getLogger(__name__)

SIGNED_IN = any_of(AUTHENTICATED, STAFF)
SECURITY_ADMIN = role("security_admin")


def trusted_proxies(setting=None):
    """GATEWAY_TRUSTED_PROXIES: the addresses or networks (comma separated) of the proxies
    in front of the gateway, whose X-Forwarded-For is believed."""
    setting = env("GATEWAY_TRUSTED_PROXIES", "") if setting is None else setting
    return [ipaddress.ip_network(item.strip(), strict=False)
            for item in setting.split(",") if item.strip()]


def _address(text):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def client_address(request, proxies=None):
    """The caller's address, for login rate limits. X-Forwarded-For counts only when the
    connection comes from a trusted proxy: then the address is its last entry that is not
    itself a trusted proxy (each proxy appends the address it received from)."""
    proxies = trusted_proxies() if proxies is None else proxies

    def trusted(address):
        return address is not None and any(address in network for network in proxies)
    peer = request.remote_addr
    if not trusted(_address(peer)):
        return peer
    for entry in reversed((request.headers.get("X-Forwarded-For") or "").split(",")):
        address = _address(entry)
        if address is None:
            break  # not an address: nothing before it can be believed
        if not trusted(address):
            return str(address)
    return peer


class IdentityRoutes:
    # identity's keys and the revoked tokens, for every endpoint of the gateway
    access_tokens = AccessTokens()

    # ---- revoked access tokens
    @broadcast_handler("identity", "access_revoked")
    def on_access_revoked(self, event):
        payload = event.get("payload") or {}
        self.access_tokens.remember_revocation(payload["user_id"], payload["revoked_before"])

    @timer(interval=30, eager=True)
    def load_access_revocations(self):
        try:
            revoked = self.identity_rpc.revocations(CallerContext.system())
        except DomainError as exc:  # identity not up yet: the next tick tries again
            log.warning("could not load access revocations: %s", exc)
            return
        for user_id, revoked_before in (revoked or {}).items():
            self.access_tokens.remember_revocation(user_id, revoked_before)
        self.access_tokens.forget_old_revocations()

    # ---- authentication
    @endpoint("POST", "/auth/login", right=PUBLIC, body=LoginSchema(), response=TokenPairSchema(), tags=("auth",), errors=(401, 403, 423, 429))
    def login(self, call):
        """Sign in: an access token (15 min) and a refresh token."""
        return self.identity_rpc.login(call.ctx, call.body.get("username"), call.body.get("password"),
                                       client_address=client_address(call.request))

    @endpoint("POST", "/auth/refresh", right=PUBLIC, body=RefreshTokenSchema(),
              response=TokenPairSchema(), tags=("auth",), errors=(401, 403, 423))
    def refresh_tokens(self, call):
        """A new token pair; the refresh token presented is revoked."""
        return self.identity_rpc.refresh(call.ctx, call.body.get("refresh_token"))

    @endpoint("POST", "/auth/logout", right=PUBLIC, body=RefreshTokenSchema(), status=204,
              tags=("auth",))
    def logout(self, call):
        """Revoke the refresh token (and its rotations)."""
        self.identity_rpc.logout(call.ctx, call.body.get("refresh_token"))

    @endpoint("POST", "/auth/forgot-username", right=PUBLIC, body=ForgotUsernameSchema(),
              status=202, tags=("auth",))
    def forgot_username(self, call):
        """Email the usernames tied to an address (the reply never says whether any is)."""
        self.identity_rpc.forgot_username(call.ctx, call.body.get("email"))

    @endpoint("POST", "/auth/forgot-password", right=PUBLIC, body=ForgotPasswordSchema(),
              status=202, tags=("auth",))
    def forgot_password(self, call):
        """Email a one-time reset link valid 24 h (the reply never says whether the user exists)."""
        self.identity_rpc.forgot_password(call.ctx, call.body.get("username"))

    @endpoint("POST", "/auth/reset-password", right=PUBLIC, body=ResetPasswordSchema(),
              status=204, tags=("auth",), errors=(410,))
    def reset_password(self, call):
        """Set a password from a reset or set-password link; unlocks the account and ends
        every session of the user."""
        self.access_tokens.apply_revocation(self.identity_rpc.reset_password(call.ctx, call.body.get("token"),
                                                          call.body.get("new_password")))

    @endpoint("POST", "/auth/confirm-email", right=PUBLIC, body=ConfirmEmailSchema(),
              status=204, tags=("auth",), errors=(410,))
    def confirm_email(self, call):
        """Use the link sent to a new email address: it becomes the account's address."""
        self.identity_rpc.confirm_email(call.ctx, call.body.get("token"))

    # ---- own account
    get_me = forward("GET", "/me", "identity.get_me", right=SIGNED_IN, response=MeSchema(),
                     tags=("account",), summary="The caller's profile and rights.")

    update_me = forward("PATCH", "/me", "identity.update_me", right=SIGNED_IN,
                        body=ProfileUpdateSchema(), response=MeSchema(), tags=("account",),
                        errors=(429,), passing=("body",),
                        summary=("Change name, phone or locale; the username is read-only. A new "
                                 "email needs `current_password`: a link goes to the new address "
                                 "(shown as `pending_email` until it is used) and a notice to the "
                                 "old one."))

    @endpoint("POST", "/me/password", right=SIGNED_IN, body=ChangePasswordSchema(), status=204,
              tags=("account",), errors=(429,))
    def change_password(self, call):
        """Change the password, giving the current one; every token of the user, this
        session's included, is refused from now on."""
        self.access_tokens.apply_revocation(self.identity_rpc.change_password(
            call.ctx, call.body.get("current_password"), call.body.get("new_password")))

    get_email_preferences = forward("GET", "/me/email-preferences",
                                    "identity.get_email_preferences", right=SIGNED_IN,
                                    response=EmailPreferencesSchema(), tags=("account",),
                                    summary="Which emails the caller receives.")

    put_email_preferences = forward("PUT", "/me/email-preferences",
                                    "identity.set_email_preferences", right=SIGNED_IN,
                                    body=EmailPreferencesSchema(),
                                    response=EmailPreferencesSchema(), tags=("account",),
                                    passing=("body",),
                                    summary="Choose which emails the caller receives.")

    # ---- payment cards
    list_payment_cards = forward("GET", "/me/payment-cards", "identity.list_cards",
                                 right=AUTHENTICATED, query=PageQuery(),
                                 response=PaymentCardListSchema(), tags=("account",),
                                 passing=("page",), summary="The caller's saved cards.")

    @endpoint("POST", "/me/payment-cards", right=AUTHENTICATED, body=CardInputSchema(),
              response=PaymentCardSchema(), status=201, idempotent=True,
              tags=("account",), errors=(409,))
    def add_payment_card(self, call):
        """Save a card: it is tokenized by the payment gateway; consent must be true."""
        # the number and CVC go no further than here: the gateway is their edge
        body = load(CardInputSchema(), call.body)
        if body.get("consent") is not True:
            raise Invalid("consent is required to save a card", code="consent_required",
                          errors={"consent": ["You must agree to the saved-card terms."]})
        token, brand, last4 = payment_gateway().tokenize(body["number"], body["exp_month"],
                                                         body["exp_year"], body["cvc"])
        card = {"gateway_token": token, "brand": brand, "last4": last4,
                "exp_month": body["exp_month"], "exp_year": body["exp_year"],
                "holder_first_name": body["holder_first_name"],
                "holder_last_name": body["holder_last_name"], "nickname": body["nickname"],
                "consent": True}
        return self.identity_rpc.add_card(call.ctx, card, idempotency_key=call.idempotency_key)

    remove_payment_card = forward("DELETE", "/me/payment-cards/<int:id>", "identity.remove_card",
                                  right=AUTHENTICATED, status=204, tags=("account",),
                                  errors=(404,),
                                  summary="Remove a saved card, which withdraws its consent.")

    # ---- company administration
    get_company = forward("GET", "/company", "identity.get_company", right=AUTHENTICATED,
                          response=CompanySchema(), tags=("company",),
                          summary=("The caller's company: customer number, currency, billing "
                                   "accounts, addresses."))

    update_company_settings = forward("PATCH", "/company", "identity.update_company_settings",
                                      right=role("eprocurement_admin"),
                                      body=CompanySettingsSchema(), response=CompanySchema(),
                                      tags=("company",), passing=("body",),
                                      summary=("The company's settings (e-procurement admin, who "
                                               "keeps its favorites): `favorites_home` makes the "
                                               "portal's home page show the company's favorites "
                                               "first."))

    @endpoint("GET", "/company/users", right=SECURITY_ADMIN, query=UserListQuerySchema(),
              response=CompanyUserListSchema(), tags=("company",))
    def list_company_users(self, call):
        """The company's users (`q` searches username, email and names)."""
        return self.identity_rpc.list_users(call.ctx, **call.args("limit", "cursor", "q",
                                                                  "status"))

    create_company_user = forward("POST", "/company/users", "identity.create_user",
                                  right=SECURITY_ADMIN, body=UserCreateSchema(),
                                  response=CompanyUserSchema(), status=201, idempotent=True,
                                  tags=("company",), errors=(409,),
                                  passing=("body", "idempotency_key"),
                                  summary=("Create a user; they get an email to set their "
                                           "password."))

    get_company_user = forward("GET", "/company/users/<int:id>", "identity.get_user",
                               right=SECURITY_ADMIN, response=CompanyUserSchema(),
                               tags=("company",), errors=(404,),
                               summary=("One user of the company with their own and effective "
                                        "rights."))

    update_company_user = forward("PATCH", "/company/users/<int:id>", "identity.update_user",
                                  right=SECURITY_ADMIN, body=UserUpdateSchema(),
                                  response=CompanyUserSchema(), tags=("company",),
                                  errors=(404, 409), passing=("body",),
                                  summary="Disable or enable, unlock, and set groups and rights.")

    list_company_groups = forward("GET", "/company/groups", "identity.list_groups",
                                  right=SECURITY_ADMIN, query=PageQuery(),
                                  response=CompanyGroupListSchema(), tags=("company",),
                                  passing=("page",),
                                  summary="The standard and custom groups of the company.")

    create_company_group = forward("POST", "/company/groups", "identity.create_group",
                                   right=SECURITY_ADMIN, body=CompanyGroupSchema(),
                                   response=GroupSchema(), status=201, tags=("company",),
                                   errors=(409,), passing=("body",),
                                   summary=("A custom group with its roles, features and "
                                            "catalogs."))

    update_company_group = forward("PATCH", "/company/groups/<int:id>", "identity.update_group",
                                   right=SECURITY_ADMIN, body=GroupUpdateSchema(),
                                   response=GroupSchema(), tags=("company",), errors=(404, 409),
                                   passing=("body",),
                                   summary=("Rename a group or change its rights (its members' "
                                            "tokens are then refused)."))

    delete_company_group = forward("DELETE", "/company/groups/<int:id>", "identity.delete_group",
                                   right=SECURITY_ADMIN, status=204, tags=("company",),
                                   errors=(404, 409),
                                   summary="Delete a custom group (standard groups: 409).")

    # ---- back office
    @endpoint("GET", "/backoffice/companies", right=STAFF, query=CompanyListQuerySchema(),
              response=CompanyListSchema(), tags=("backoffice",))
    def backoffice_list_companies(self, call):
        """Every company, newest first, with its number of users; `q` finds part of a name,
        customer number or billing account number."""
        return self.identity_rpc.list_companies(call.ctx, **call.args("q", "limit", "cursor"))

    backoffice_get_company = forward("GET", "/backoffice/companies/<int:id>",
                                     "identity.get_company", right=STAFF, response=CompanySchema(),
                                     tags=("backoffice",), errors=(404,),
                                     summary=("One company: customer number, currency, billing "
                                              "accounts, addresses, settings."))

    @endpoint("GET", "/backoffice/companies/<int:id>/users", right=STAFF,
              query=UserListQuerySchema(), response=CompanyUserListSchema(),
              tags=("backoffice",), errors=(404,))
    def backoffice_list_company_users(self, call, id):
        """A company's users with their groups and rights (`q` searches username, email
        and names)."""
        return self.identity_rpc.list_company_users(
            call.ctx, id, **call.args("limit", "cursor", "q", "status"))

    backoffice_create_company = forward("POST", "/backoffice/companies", "identity.create_company",
                                        right=STAFF, body=CompanyCreateSchema(),
                                        response=CompanyCreatedSchema(), status=201,
                                        idempotent=True, tags=("backoffice",), errors=(409,),
                                        passing=("body", "idempotency_key"),
                                        summary=("A company with its standard groups and first "
                                                 "administrator (set-password email)."))

    backoffice_link_billing_account = forward("POST", "/backoffice/companies/<int:id>/links",
                                              "identity.link_billing_account", right=STAFF,
                                              body=BillingAccountSchema(),
                                              response=BillingAccountSchema(), status=201,
                                              tags=("backoffice",), errors=(404, 409),
                                              passing=("body",),
                                              summary=("Link another billing account to the "
                                                       "company."))
