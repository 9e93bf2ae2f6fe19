"""Approvals inbox (SPEC R-T3): list, one approval, decide."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server.approvals import disputes, service
from server.common.auth import login_required, me
from server.common.cursors import decode_cursor, encode_cursor
from server.common.schemas import StrictSchema

blp = Blueprint("approvals", __name__, url_prefix="/api/v1/approvals", description="approvals")

KIND_NAMES = ["pool_claim", "transfer", "change_request", "subsidiary_line", "dispute"]


class ApprovalListArgs(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "approved", "rejected", "cancelled"]))
    kind = fields.String(load_default=None, validate=validate.OneOf(KIND_NAMES))
    # to_decide: waiting for me now; decides: my inbox, decided or not; requested: mine; all
    box = fields.String(load_default="all", validate=validate.OneOf(["all", "to_decide", "decides", "requested"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)


class DecideSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(list(service.DECISIONS)))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(disputes.OUTCOMES)))


class RefSchema(Schema):
    id = fields.String()
    display_name = fields.String(allow_none=True)


class ApprovalSchema(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    requester_id = fields.String()
    requester = fields.Nested(RefSchema, allow_none=True)
    customer_id = fields.String(allow_none=True)
    customer = fields.Dict(allow_none=True)
    payload = fields.Dict()
    stages = fields.List(fields.String())
    stage = fields.String(allow_none=True)
    stage_index = fields.Integer()
    decisions = fields.List(fields.Dict())
    approver = fields.Nested(RefSchema, allow_none=True)
    decided_by_id = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    result = fields.Dict(allow_none=True)
    industry_priority = fields.String(allow_none=True)
    created_at = fields.String()
    decided_at = fields.String(allow_none=True)
    can_decide = fields.Boolean()


class ApprovalListSchema(Schema):
    items = fields.List(fields.Nested(ApprovalSchema))
    next_cursor = fields.String(allow_none=True)


@blp.route("")
class Approvals(MethodView):
    @login_required()
    @blp.arguments(ApprovalListArgs, location="query")
    @blp.response(200, ApprovalListSchema)
    def get(self, args):
        """The caller's approvals: what they decide and what they requested, newest first."""
        user = me()
        rows, cursor = service.list_approvals(user, args["status"], args["kind"], args["box"], args["limit"],
                                              decode_cursor(args["cursor"]))
        return {"items": [service.present_approval(a, user) for a in rows],
                "next_cursor": encode_cursor(cursor)}


@blp.route("/<uuid:approval_id>")
class ApprovalById(MethodView):
    @login_required()
    @blp.response(200, ApprovalSchema)
    def get(self, approval_id: uuid.UUID):
        return service.present_approval(service.get_approval(me(), approval_id), me())


@blp.route("/<uuid:approval_id>/decide")
class ApprovalDecide(MethodView):
    @login_required()
    @blp.arguments(DecideSchema)
    @blp.response(200, ApprovalSchema)
    def post(self, args, approval_id: uuid.UUID):
        """Approve (this stage) or reject. A failing effect answers its error; the approval stays pending."""
        approval = service.decide(approval_id, me(), args["decision"], args["comment"], args["outcome"])
        return service.present_approval(approval, me())
