"""Approvals a user requested or decides, synced to their devices (SPEC §12 synced entities)."""
from __future__ import annotations

from server.approvals.models import Approval
from server.approvals.service import can_decide, current_stage, visible_approvals
from server.common.audit import jsonable
from server.sync_api.feeds import PersonalFeed, register_feed


def present_approval(approval: Approval, plan) -> dict:
    return jsonable({
        "id": approval.id, "kind": approval.kind, "status": approval.status,
        "requester_id": approval.requester_id, "customer_id": approval.customer_id,
        "payload": approval.payload, "stages": approval.stages, "stage": current_stage(approval),
        "decisions": approval.decisions, "comment": approval.comment, "result": approval.result,
        "created_at": approval.created_at, "decided_at": approval.decided_at,
        "can_decide": can_decide(plan.viewer, approval),
    })


register_feed(PersonalFeed("approval", Approval, lambda plan: visible_approvals(plan.viewer), present_approval,
                           voided=lambda a: False))
