"""Approvals a user requested or decides, synced to their devices (SPEC §12 synced entities)."""
from __future__ import annotations

from server.approvals.models import Approval
from server.approvals.service import present_approval as present, visible_approvals
from server.sync_api.feeds import PersonalFeed, register_feed


def present_approval(approval: Approval, plan) -> dict:
    return present(approval, plan.viewer)


register_feed(PersonalFeed("approval", Approval, lambda plan: visible_approvals(plan.viewer), present_approval,
                           voided=lambda a: False))
