"""marshmallow schemas of the approvals API: workflows, requests, decisions, the preview,
delegations, settings and the audit trail."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.approvals.rules import RULE_TYPES
from services.common.schemas import page_of, Boolean, Id, MoneySchema, one_of_kinds, Person, Totals

_ids = lambda: fields.List(Id(),  # noqa: E731
                           load_default=list, validate=validate.Length(max=500))


class People(Schema):
    user_ids = _ids()
    group_ids = _ids()


class Rule(Schema):
    """One rule; which fields it takes depends on its type."""
    type = fields.String(required=True, validate=validate.OneOf(RULE_TYPES))
    amount = fields.Nested(MoneySchema)
    catalog_ids = fields.List(Id(), validate=validate.Length(min=1, max=200))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                             validate=validate.Length(min=1, max=200))

    NEEDS = {"order_total_over": "amount", "line_price_over": "amount",
             "catalog": "catalog_ids", "category": "categories"}
    json_schema = one_of_kinds("type", RULE_TYPES,
                               {kind: {needed: {}} for kind, needed in NEEDS.items()}, only=True)

    @validates_schema
    def _fields_of_type(self, data, **kwargs):
        needed = self.NEEDS.get(data.get("type"))
        if needed and not data.get(needed):
            raise ValidationError({needed: [f"required for a {data['type']} rule"]})
        if data.get("amount") is not None and data["amount"]["amount"] < 0:
            raise ValidationError({"amount": ["must not be negative"]})
        for other in ("amount", "catalog_ids", "categories"):
            if other != needed and other in data:
                raise ValidationError({other: [f"not part of a {data.get('type')} rule"]})


class Approvers(People):
    """A step's approvers: at least one user or group (domain._check_definition)."""
    json_schema = {"anyOf": [{"required": [ids], "properties": {ids: {"minItems": 1}}}
                             for ids in ("user_ids", "group_ids")]}


class Step(Schema):
    approvers = fields.Nested(Approvers, required=True)
    required = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=50))


class WorkflowIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    active = Boolean(load_default=True)
    buyers = fields.Nested(People, required=True)
    rules = fields.List(fields.Nested(Rule), required=True, validate=validate.Length(min=1, max=50))
    steps = fields.List(fields.Nested(Step), required=True, validate=validate.Length(min=1, max=20))


class WorkflowPatch(Schema):
    """The fields to change; the others stay."""
    name = fields.String(validate=validate.Length(min=1, max=200))
    active = Boolean()
    buyers = fields.Nested(People)
    rules = fields.List(fields.Nested(Rule), validate=validate.Length(min=1, max=50))
    steps = fields.List(fields.Nested(Step), validate=validate.Length(min=1, max=20))


class WorkflowOut(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    version = fields.Integer(metadata={"description": "bumped by every change; open requests "
                                                      "keep the version they started with"})
    buyers = fields.Nested(People)
    rules = fields.List(fields.Nested(Rule))
    steps = fields.List(fields.Nested(Step))
    created_at = fields.String()
    updated_at = fields.String()


WorkflowList = page_of(WorkflowOut, "WorkflowList")


class Localized(Schema):
    en = fields.String()
    fr = fields.String()


class Triggered(Schema):
    rule = fields.Nested(Rule)
    description = fields.Nested(Localized)


class DecisionOut(Schema):
    step = fields.Integer()
    decision = fields.String(metadata={"enum": ["approved", "rejected"]})
    by = fields.Nested(Person)
    comment = fields.String(allow_none=True)
    at = fields.String()


class TrackOut(Schema):
    workflow_id = fields.Integer()
    name = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected", "cancelled"]})
    triggered_by = fields.List(fields.Nested(Triggered))
    step = fields.Integer(metadata={"description": "the current step, from 1"})
    steps = fields.Integer()
    required = fields.Integer(metadata={"description": "approvals the current step needs"})
    approvers = fields.List(fields.Nested(Person))
    decisions = fields.List(fields.Nested(DecisionOut))


class OrderLine(Schema):
    part_number = fields.String()
    mfg_part_number = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price = fields.Nested(MoneySchema, allow_none=True)
    line_total = fields.Nested(MoneySchema, allow_none=True)
    on_contract = fields.Boolean()


class ApprovalOut(Schema):
    id = fields.Integer()
    order_number = fields.String()
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected", "cancelled"]})
    buyer = fields.Nested(Person)
    total = fields.Nested(MoneySchema)
    totals = fields.Nested(Totals, allow_none=True)
    lines = fields.List(fields.Nested(OrderLine))
    rule = fields.String(allow_none=True, metadata={"description": "the triggering rules in words"})
    comment = fields.String(allow_none=True)
    workflows = fields.List(fields.Nested(TrackOut))
    can_decide = fields.Boolean(metadata={"description": "the caller may approve or reject now"})
    created_at = fields.String()
    decided_at = fields.String(allow_none=True)


ApprovalList = page_of(ApprovalOut, "ApprovalList")


class InboxQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["pending", "approved", "rejected", "cancelled"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class DecisionIn(Schema):
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=2000),
                            metadata={"description": "required to reject"})


class PreviewLine(Schema):
    part_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))


class PreviewIn(Schema):
    cart_id = fields.Integer(strict=True)
    lines = fields.List(fields.Nested(PreviewLine), validate=validate.Length(min=1, max=500))

    @validates_schema
    def _one_of(self, data, **kwargs):
        if ("cart_id" in data) == ("lines" in data):
            raise ValidationError({"cart_id": ["send either cart_id or lines"]})


class PreviewStep(Schema):
    approvers = fields.List(fields.Nested(Person))
    required = fields.Integer()


class PreviewWorkflow(Schema):
    workflow_id = fields.Integer()
    name = fields.String()
    triggered_by = fields.List(fields.Nested(Triggered))
    steps = fields.List(fields.Nested(PreviewStep))


class PreviewOut(Schema):
    approval_required = fields.Boolean()
    workflows = fields.List(fields.Nested(PreviewWorkflow))
    totals = fields.Nested(Totals, allow_none=True)
    lines = fields.List(fields.Nested(OrderLine))


class DelegationIn(Schema):
    delegate_user_id = fields.Integer(required=True, strict=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "on or after starts_on"})


class DelegationOut(Schema):
    delegate_user_id = fields.Integer()
    delegate = fields.Nested(Person)
    starts_on = fields.String()
    ends_on = fields.String()


class SettingsIn(Schema):
    allow_self_approval = Boolean(
        metadata={"description": "a buyer who is also an approver may approve their own order"})
    reminder_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=60))
    escalation_days = fields.Integer(strict=True, validate=validate.Range(min=2, max=90))


class SettingsOut(SettingsIn):
    pass


class AuditOut(Schema):
    id = fields.Integer()
    at = fields.String()
    action = fields.String(metadata={"enum": [
        "requested", "approved", "rejected", "auto_approved", "cancelled", "reminded",
        "escalated", "delegation_set", "delegation_removed", "workflow_created",
        "workflow_changed", "workflow_activated", "workflow_deactivated", "workflow_deleted",
        "settings_changed"]})
    approval_id = fields.Integer(allow_none=True)
    order_number = fields.String(allow_none=True)
    workflow_id = fields.Integer(allow_none=True)
    actor = fields.Nested(Person, allow_none=True)
    comment = fields.String(allow_none=True)
    details = fields.Raw(allow_none=True)


AuditList = page_of(AuditOut, "AuditList")


class AuditQuery(Schema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    action = fields.String(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)
