"""identity's marshmallow schemas: HTTP bodies and RPC payloads (loaded by the service),
and replies: the service dumps its users, groups, companies and cards through the output
schemas here, and the gateway documents the same schemas.

Card numbers and CVCs are load-only, and no message here repeats a submitted value.
"""
from marshmallow import (Schema, ValidationError, fields, post_load, pre_load,
                         validate)

from services.common.roles import FEATURES, ROLES
from services.common.schemas import Boolean, PageQuery, Person, Text, UtcDateTime, page_of
from services.identity.payments import normalise_year

USERNAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$",
                           error="Use 2 to 64 letters, digits, dots, dashes, underscores or @.")
LOCALE = validate.OneOf(("en", "fr"))


def required_text(max_length=200, **kwargs):
    return Text(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)


class GroupRef(fields.Field):
    """A group id, or the key of a group."""

    json_schema = {"anyOf": [{"type": "integer"},
                             {"type": "string", "pattern": r"\S", "maxLength": 40}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError("A group id or a group key.")
        if isinstance(value, str):
            value = value.strip()
            if value.isdigit():
                return int(value)
            if not value or len(value) > 40:
                raise ValidationError("A group id or a group key.")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return value


def _read_only_username(data):
    if isinstance(data, dict) and "username" in data:
        raise ValidationError({"username": ["The username cannot be changed."]})
    return data


class RightsFields(Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)))
    features = fields.List(fields.String(validate=validate.OneOf(FEATURES)))
    catalog_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)))


def rights_of(attribute):
    """roles, features and catalog_ids read from a {roles, features, catalog_ids} attribute
    of the object dumped (a user's `grants` or `effective`, a group's `grants`)."""
    return {"roles": fields.List(fields.String(), attribute=f"{attribute}.roles"),
            "features": fields.List(fields.String(), attribute=f"{attribute}.features"),
            "catalog_ids": fields.List(fields.Integer(), attribute=f"{attribute}.catalog_ids")}


# ---------------------------------------------------------------- authentication

class LoginSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=1024))


class RefreshTokenSchema(Schema):
    refresh_token = fields.String(required=True, load_only=True,
                                  validate=validate.Length(min=1, max=200))


class ForgotUsernameSchema(Schema):
    email = fields.Email(required=True)


class ForgotPasswordSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=64))


class ResetPasswordSchema(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=1, max=1024))


class ChangePasswordSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(min=1, max=1024))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=1, max=1024))


class ConfirmEmailSchema(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class GroupBriefSchema(Schema):
    id = fields.Integer()
    key = fields.String(allow_none=True)
    name = fields.String()


class MeSchema(Schema.from_dict(rights_of("effective"))):
    """The caller's profile; roles, features and catalog_ids are the effective rights."""
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    email = fields.String(allow_none=True)
    pending_email = fields.String(allow_none=True, metadata={
        "description": "a new address waiting for the link sent to it to be used"})
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String(allow_none=True)
    locale = fields.String()
    status = fields.String()
    company_id = fields.Integer(allow_none=True)
    is_staff = fields.Boolean()
    groups = fields.List(fields.Nested(GroupBriefSchema))
    last_login_at = UtcDateTime(allow_none=True, metadata={"type": "string", "format": "date-time"})


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds the access token is valid"})
    user = fields.Nested(MeSchema)


# ---------------------------------------------------------------- own account

class ProfileFields(Schema):
    first_name = Text(validate=validate.Length(min=1, max=100))
    last_name = Text(validate=validate.Length(min=1, max=100))
    email = fields.Email(validate=validate.Length(max=254))
    phone = Text(allow_none=True, validate=validate.Length(max=40))
    locale = fields.String(validate=LOCALE)

    @pre_load
    def username_is_read_only(self, data, **kwargs):
        return _read_only_username(data)


class ProfileUpdateSchema(ProfileFields):
    """PATCH /me: the username is read-only (sending it is a 422). A new `email` needs
    `current_password`; it takes effect once the link sent to it is used (until then it is
    `pending_email`), and the old address gets a notice."""
    current_password = fields.String(load_only=True, validate=validate.Length(min=1, max=1024),
                                     metadata={"description": "needed with a new email"})


class EmailPreferencesSchema(Schema):
    marketing = Boolean(required=True)
    order_updates = Boolean(required=True)
    report_deliveries = Boolean(required=True)


class CardInputSchema(Schema):
    """POST /me/payment-cards. The number and CVC go to the payment gateway only."""
    number = fields.String(required=True, load_only=True, validate=validate.Length(max=40))
    exp_month = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    exp_year = fields.Integer(required=True, validate=validate.Range(min=0, max=2200))
    cvc = fields.String(required=True, load_only=True, validate=validate.Length(max=8))
    holder_first_name = required_text(100)
    holder_last_name = required_text(100)
    nickname = required_text(100)
    consent = Boolean(load_default=False,
                      metadata={"description": "must be true: agreement to the saved-card "
                                               "terms"})

    @post_load
    def four_digit_year(self, data, **kwargs):
        data["exp_year"] = normalise_year(data["exp_year"])
        return data


class CardRecordSchema(Schema):
    """A tokenized card, as the gateway sends it to identity (RPC `add_card`)."""
    gateway_token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    brand = fields.String(required=True, validate=validate.OneOf(
        ("Visa", "Mastercard", "Amex", "Discover")))
    last4 = fields.String(required=True, validate=validate.Regexp(r"^\d{4}$"))
    exp_month = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    exp_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2200))
    holder_first_name = required_text(100)
    holder_last_name = required_text(100)
    nickname = required_text(100)
    consent = fields.Boolean(load_default=False)
    terms_version = fields.String(validate=validate.Length(max=20))


class CardShown(Schema):
    """How a saved card is shown to people: its brand and last four digits."""
    brand = fields.String()
    last4 = fields.String()


class PaymentCardSchema(CardShown):
    id = fields.Integer()
    exp_month = fields.Integer()
    exp_year = fields.Integer()
    holder_first_name = fields.String()
    holder_last_name = fields.String()
    nickname = fields.String()
    consent_at = UtcDateTime(metadata={"type": "string", "format": "date-time"})
    terms_version = fields.String()
    created_at = UtcDateTime(metadata={"type": "string", "format": "date-time"})


class SavedCardSchema(PaymentCardSchema):
    """A saved card for payment (RPC `get_card`, for orders): whose it is and its token."""
    user_id = fields.Integer()
    company_id = fields.Integer()
    gateway_token = fields.String(allow_none=True)


class ChargeSchema(CardShown):
    """RPC `charge_card`'s reply: the charge, and the card it was made on."""
    charge_id = fields.String()
    card_id = fields.Integer()


class PersonSchema(Person):
    """A user as other services name them, from the user's row."""
    user_id = fields.Integer(attribute="id")
    name = fields.String(attribute="full_name")


PaymentCardListSchema = page_of(PaymentCardSchema, "PaymentCardListSchema")


class UserListQuerySchema(PageQuery):
    q = Text(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(("active", "disabled")))


# ---------------------------------------------------------------- company administration

class CompanyAddressSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(load_default="shipping", validate=validate.OneOf(("shipping", "billing")))
    name = required_text(200)
    line1 = required_text(200)
    line2 = Text(allow_none=True, validate=validate.Length(max=200))
    city = required_text(100)
    region = Text(allow_none=True, validate=validate.Length(max=100))
    postal_code = Text(allow_none=True, validate=validate.Length(max=20))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$",
                                                                    error="An ISO country code."))


class BillingAccountSchema(Schema):
    id = fields.Integer(dump_only=True)
    account_number = Text(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9-]{1,40}$", error="Use up to 40 letters, digits or dashes."))
    name = required_text(200)
    primary = fields.Boolean(dump_only=True, attribute="is_primary")
    company_id = fields.Integer(dump_only=True)


class CompanySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    customer_number = fields.String()
    currency = fields.String()
    billing_accounts = fields.List(fields.Nested(BillingAccountSchema))
    addresses = fields.List(fields.Nested(CompanyAddressSchema))
    favorites_home = fields.Boolean(metadata={
        "description": "the portal's home page shows the company's favorites first"})


class CompanySettingsSchema(Schema):
    favorites_home = Boolean(required=True, metadata={
        "description": "the portal's home page shows the company's favorites first"})


class CompanyListQuerySchema(PageQuery):
    q = Text(validate=validate.Length(max=100), metadata={
        "description": "part of a name, customer number or billing account number"})


class CompanySummarySchema(Schema):
    id = fields.Integer(attribute="company.id")
    name = fields.String(attribute="company.name")
    customer_number = fields.String(attribute="company.customer_number")
    currency = fields.String(attribute="company.currency")
    created_at = UtcDateTime(attribute="company.created_at",
                             metadata={"type": "string", "format": "date-time"})
    user_count = fields.Integer()


CompanyListSchema = page_of(CompanySummarySchema, "CompanyListSchema")


class RightsSchema(Schema):
    roles = fields.List(fields.String())
    features = fields.List(fields.String())
    catalog_ids = fields.List(fields.Integer())


class CompanyUserSchema(Schema.from_dict(rights_of("grants"))):
    """A user as the security admin sees it; roles, features and catalog_ids are the user's
    own grants, `effective` adds those of the groups."""
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    email = fields.String(allow_none=True)
    pending_email = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String(allow_none=True)
    locale = fields.String()
    status = fields.String()
    locked = fields.Boolean()
    locked_at = UtcDateTime(allow_none=True, metadata={"type": "string", "format": "date-time"})
    last_login_at = UtcDateTime(allow_none=True, metadata={"type": "string", "format": "date-time"})
    created_at = UtcDateTime(metadata={"type": "string", "format": "date-time"})
    groups = fields.List(fields.Nested(GroupBriefSchema))
    effective = fields.Nested(RightsSchema)


CompanyUserListSchema = page_of(CompanyUserSchema, "CompanyUserListSchema")


class NewUserFields(Schema):
    """Who a new user of a company is: a company's users and its first administrator."""
    username = Text(required=True, validate=USERNAME)
    email = fields.Email(required=True)
    first_name = required_text(100)
    last_name = required_text(100)
    phone = Text(allow_none=True, validate=validate.Length(max=40))
    locale = fields.String(load_default="en", validate=LOCALE)


class UserCreateSchema(RightsFields, NewUserFields):
    groups = fields.List(GroupRef(), metadata={"description": "group ids or keys; "
                                                               "default: the users group"})


class UserUpdateSchema(RightsFields, ProfileFields):
    """PATCH /company/users/{id}: the profile fields, status, unlock, groups and rights."""
    status = fields.String(validate=validate.OneOf(("active", "disabled")))
    unlock = Boolean()
    groups = fields.List(GroupRef())


class CompanyGroupSchema(RightsFields):
    """POST /company/groups."""
    key = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{1,39}$", error="Use 2 to 40 lower-case letters, digits or _."))
    name = required_text(100)


class GroupUpdateSchema(RightsFields):
    name = Text(validate=validate.Length(min=1, max=100))


class GroupSchema(Schema.from_dict(rights_of("grants"))):
    """A group of the company with its rights."""
    id = fields.Integer()
    key = fields.String(allow_none=True)
    name = fields.String()
    standard = fields.Boolean()
    member_count = fields.Integer()


CompanyGroupListSchema = page_of(GroupSchema, "CompanyGroupListSchema")


# ---------------------------------------------------------------- back office

class CompanyAdminSchema(NewUserFields):
    pass


class CompanyCreateSchema(Schema):
    name = required_text(200)
    customer_number = Text(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9-]{1,40}$", error="Use up to 40 letters, digits or dashes."))
    currency = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{3}$", error="An ISO 4217 currency code such as CAD."))
    admin = fields.Nested(CompanyAdminSchema, required=True)
    addresses = fields.List(fields.Nested(CompanyAddressSchema), load_default=list)


class CompanyCreatedSchema(Schema):
    """A new company and its first administrator (domain.companies.NewCompany)."""
    id = fields.Integer(attribute="company.id")
    name = fields.String(attribute="company.name")
    customer_number = fields.String(attribute="company.customer_number")
    currency = fields.String(attribute="company.currency")
    admin_user_id = fields.Integer(attribute="admin.id")
