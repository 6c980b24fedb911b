"""marshmallow schemas of e-procurement: the PunchOut configuration (staff) and the browser's
punch-out session."""
from marshmallow import Schema, fields, validate

from services.common.schemas import Boolean, UtcDateTime
from services.punchout.credentials import MIN_SECRET_LENGTH
from services.punchout.domain import USER_MAPPINGS


class CredentialSchema(Schema):
    domain = fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={
        "description": "the credential's domain: NetworkID, DUNS, or one agreed with the buyer"})
    identity = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PunchoutConfigIn(Schema):
    enabled = Boolean(load_default=True)
    from_credentials = fields.List(fields.Nested(CredentialSchema), required=True,
                                   validate=validate.Length(min=1, max=10), metadata={
                                       "description": "the buyer system's From identities; a "
                                                      "request must carry one of them"})
    sender = fields.Nested(CredentialSchema, required=True, metadata={
        "description": "the Sender identity whose shared secret comes with every request"})
    shared_secret = fields.String(load_default=None, load_only=True,
                                  validate=validate.Length(min=MIN_SECRET_LENGTH, max=200),
                                  metadata={"description": "required the first time; left out, "
                                                           "the current secret stays"})
    supplier_credentials = fields.List(fields.Nested(CredentialSchema), load_default=None,
                                       validate=validate.Length(min=1, max=5), metadata={
                                           "description": "Procura's identity towards this "
                                                          "buyer (From of the documents Procura "
                                                          "sends); default NetworkID PROCURA"})
    user_mapping = fields.String(load_default="fixed", validate=validate.OneOf(USER_MAPPINGS),
                                 metadata={"description": "fixed: sessions act as user_id; "
                                                          "user_email: as the company's user "
                                                          "whose email is the UserEmail extrinsic"})
    user_id = fields.Integer(load_default=None, strict=True)
    oci_allowed = Boolean(load_default=False)
    oci_username = fields.String(load_default=None, validate=validate.Length(min=3, max=120))
    oci_password = fields.String(load_default=None, load_only=True,
                                 validate=validate.Length(min=MIN_SECRET_LENGTH, max=200))
    order_status_url = fields.Url(load_default=None, schemes={"http", "https"}, require_tld=False,
                                  metadata={"description": "where StatusUpdateRequest and "
                                                           "ShipNoticeRequest documents go"})


class PunchoutConfigOut(Schema):
    company_id = fields.Integer()
    enabled = fields.Boolean()
    from_credentials = fields.List(fields.Nested(CredentialSchema))
    sender = fields.Nested(CredentialSchema)
    shared_secret_set = fields.Boolean()
    supplier_credentials = fields.List(fields.Nested(CredentialSchema))
    user_mapping = fields.String()
    user_id = fields.Integer(allow_none=True)
    oci_allowed = fields.Boolean()
    oci_username = fields.String(allow_none=True)
    oci_password_set = fields.Boolean()
    order_status_url = fields.String(allow_none=True)
    updated_at = UtcDateTime()
    setup_url = fields.String(metadata={"description": "where the buyer system posts "
                                                      "PunchOutSetupRequest"})
    order_url = fields.String(metadata={"description": "where it posts OrderRequest"})
    oci_url = fields.String(metadata={"description": "the OCI catalog URL"})


class SessionItem(Schema):
    part_number = fields.String()
    quantity = fields.String()
    description = fields.String(allow_none=True)
    unit_price = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)


class PunchoutSessionOut(Schema):
    id = fields.Integer()
    protocol = fields.String(metadata={"enum": ["cxml", "oci"]})
    operation = fields.String(metadata={"enum": ["create", "edit", "inspect"]})
    cart_id = fields.Integer(allow_none=True)
    return_host = fields.String(metadata={"description": "the host the cart goes back to"})
    expires_at = UtcDateTime()
    read_only = fields.Boolean(metadata={"description": "inspect: the lines cannot change"})
    items = fields.List(fields.Nested(SessionItem))
