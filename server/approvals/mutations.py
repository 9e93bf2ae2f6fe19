"""Approval sync mutations: `approval.decide` and `dispute.create` (SPEC §12, R-T3, R-T4)."""
from __future__ import annotations

from marshmallow import fields, validate

from server.approvals import disputes, service
from server.common.schemas import StrictSchema
from server.customers.schemas import SHA256
from server.sync_api.registry import MutationContext, registry


class DecideArgs(StrictSchema):
    approval_id = fields.UUID(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(list(service.DECISIONS)))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    # disputes: keep | reassign | cofollow
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(disputes.OUTCOMES)))


class DisputeArgs(StrictSchema):
    id = fields.UUID(required=True)  # the approval's id, made on the phone
    customer_id = fields.UUID(required=True)
    evidence = fields.String(required=True, validate=validate.Length(min=10, max=2000))
    photo_hashes = fields.List(fields.String(validate=SHA256), load_default=list, validate=validate.Length(max=9))


def decided(approval) -> dict:
    return {"approval_id": str(approval.id), "status": approval.status, "stage": service.current_stage(approval),
            "result": approval.result}


@registry.register("approval.decide")
def approval_decide(args: dict, ctx: MutationContext) -> dict:
    data = DecideArgs().load(args)
    approval = service.decide(data["approval_id"], ctx.user, data["decision"], data["comment"], data["outcome"])
    return decided(approval)


@registry.register("dispute.create", creates=lambda a: [a["id"]])
def dispute_create(args: dict, ctx: MutationContext) -> dict:
    data = DisputeArgs().load(args)
    approval = disputes.create_dispute(data["customer_id"], data["evidence"], data["photo_hashes"], ctx.user,
                                       approval_id=data["id"])
    return {"approval_id": str(approval.id),
            "_notice": {"code": "approval_required", "message": "Your dispute waits for a manager's decision",
                        "details": {"approval_id": str(approval.id), "kind": "dispute"}}}
