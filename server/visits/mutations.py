"""`visit.create` and `visit.review` (SPEC §12, R-A2, §7)."""
from __future__ import annotations

from server.sync_api.registry import MutationContext, registry
from server.visits import service
from server.visits.schemas import VisitCreateArgs, VisitReviewArgs


@registry.register("visit.create", creates=lambda a: [a["id"]])
def visit_create(args: dict, ctx: MutationContext) -> dict:
    """Never rejected for failing a check: the answer carries the verification status (the
    whole block comes with the visit on the next pull)."""
    visit = service.create_visit(VisitCreateArgs().load(args), ctx.user, ctx.mutation.client_time)
    return {"verification_status": visit.verification_status}


@registry.register("visit.review")
def visit_review(args: dict, ctx: MutationContext) -> dict:
    """A manager on a phone confirms a suspect or unverified visit or marks it false."""
    data = VisitReviewArgs().load(args)
    visit = service.review_visit(data["visit_id"], ctx.user, data["decision"], data["comment"])
    return {"review_status": visit.review_status}
