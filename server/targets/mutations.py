"""`target.save` (SPEC §12, R-K1)."""
from __future__ import annotations

from server.sync_api.registry import MutationContext, registry
from server.targets import service
from server.targets.schemas import TargetSaveArgs


@registry.register("target.save", creates=lambda a: [a["id"]] if isinstance(a.get("id"), str) else [])
def target_save(args: dict, ctx: MutationContext) -> dict:
    target, approval = service.save_target(TargetSaveArgs().load(args), ctx.user)
    result = {"status": target.status}
    if approval is not None:
        result["approval_id"] = str(approval.id)
        result["_notice"] = {"code": "approval_required", "message": "Your target waits for your manager's approval",
                             "details": {"approval_id": str(approval.id), "kind": "target"}}
    return result
