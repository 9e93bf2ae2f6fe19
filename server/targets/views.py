"""`/api/v1/targets`: targets the caller may see with their actuals, and saving one online (the
same service as the `target.save` mutation)."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.targets import service
from server.targets.schemas import TargetListArgs, TargetListOut, TargetOut, TargetSaveArgs

blp = Blueprint("targets", __name__, url_prefix="/api/v1/targets",
                description="Targets per user and period with computed actuals (amounts in fen)")


@blp.route("")
class Targets(MethodView):
    @login_required()
    @blp.arguments(TargetListArgs, location="query")
    @blp.response(200, TargetListOut)
    def get(self, args):
        """Targets the caller may see (their own; a manager's department subtree; all for admins
        and business support), newest period first; `from`/`to` keep periods overlapping them."""
        rows = service.list_targets(me(), args["user_id"], args["department_id"], args["from_"], args["to"])
        return {"items": service.present_many(rows)}


@blp.route("/<uuid:target_id>")
class TargetById(MethodView):
    @login_required()
    @blp.response(200, TargetOut)
    def get(self, target_id: uuid.UUID):
        return service.present(service.get_target(me(), target_id))

    @login_required()
    @blp.arguments(TargetSaveArgs(exclude=("id",)))
    @blp.response(200, TargetOut)
    def put(self, args, target_id: uuid.UUID):
        """Create or change the target with this id, as `target.save` does (a rep's own target
        becomes a pending draft with an approval for their manager)."""
        target, _ = service.save_target(args, me(), target_id=target_id)
        return service.present(target)
