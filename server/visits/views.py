"""Visits online (SPEC R-A2, §7): read them, and the managers' review queue and decisions.

Visits are created on phones (`visit.create` by sync); managers review them here or by the
`visit.review` mutation.
"""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.visits import service
from server.visits.schemas import ReviewArgs, ReviewQueueArgs, VisitListArgs, VisitListSchema, VisitSchema

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits", description="Visits and their verification")


@blp.route("")
class Visits(MethodView):
    @login_required()
    @blp.arguments(VisitListArgs, location="query")
    @blp.response(200, VisitListSchema)
    def get(self, args):
        """Visits under the customers the caller sees (one customer's with `customer_id`), newest
        received first, each with its verification."""
        user = me()
        rows, cursor = service.list_visits(user, args["customer_id"], args["status"], args["limit"], args["cursor"])
        return {"items": service.present_many(rows, user), "next_cursor": cursor}


@blp.route("/review")
class ReviewQueue(MethodView):
    @login_required()
    @blp.arguments(ReviewQueueArgs, location="query")
    @blp.response(200, VisitListSchema)
    def get(self, args):
        """Suspect and unverified visits waiting for the caller's review (managers: visits of
        authors in their department subtree, under customers they see; admins: all). 403 for
        other roles."""
        user = me()
        rows, cursor = service.review_queue(user, args["status"], args["review"], args["limit"], args["cursor"])
        return {"items": service.present_many(rows, user), "next_cursor": cursor}


@blp.route("/<uuid:visit_id>")
class VisitById(MethodView):
    @login_required()
    @blp.response(200, VisitSchema)
    def get(self, visit_id: uuid.UUID):
        """One visit, for whoever sees its customer (404 for everyone else)."""
        user = me()
        return service.present_full(service.get_visible_visit(user, visit_id), user)


@blp.route("/<uuid:visit_id>/review")
class VisitReview(MethodView):
    @login_required()
    @blp.arguments(ReviewArgs)
    @blp.response(200, VisitSchema)
    def post(self, args, visit_id: uuid.UUID):
        """Confirm (`confirm`: it counts as progress) or mark false (`false`: it is not progress
        and leaves the visit count) a suspect or unverified visit. Managers above the author and
        admins; 403 for others who see it, 409 `already_reviewed` / `not_reviewable`."""
        user = me()
        visit = service.review_visit(visit_id, user, args["decision"], args["comment"])
        return service.present_full(visit, user)
