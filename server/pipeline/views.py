"""`/api/v1/pipeline`: the pipeline summary, online reads and writes of opportunities, deals and
payments (the same services as the sync mutations), and the attachment channel.

Importing `grades` here installs the session hooks that keep customer classes current,
whichever channel changes a customer's profile, contacts, opportunities or activity.
"""
from __future__ import annotations

import uuid

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

import server.pipeline.grades  # noqa: F401 — installs the class hooks
from server.common import blobs
from server.common.auth import login_required, me
from server.photos import service as photos
from server.pipeline import attachments, service
from server.pipeline.mutations import load_changes
from server.pipeline.schemas import (AttachmentOut, DealCreateSchema, DealListArgs, DealOut, DealSignSchema,
                                     ListArgs, OpportunityCreateSchema, OpportunityOut, OpportunityUpdateSchema,
                                     PaymentCreateSchema, PaymentListArgs, PaymentOut, SetStageSchema, SummaryArgs,
                                     SummaryOut)

blp = Blueprint("pipeline", __name__, url_prefix="/api/v1/pipeline",
                description="Sales pipeline: opportunities, deals, payments, attachments (amounts in fen)")


@blp.route("/summary")
class Summary(MethodView):
    @login_required()
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummaryOut)
    def get(self, args):
        """Count, amount and weighted amount (amount × win rate) by stage of the opportunities
        the caller may see, in integer fen; `open` adds qualify to contracting, `total` all."""
        return service.pipeline_summary(me(), args["customer_id"], args["owner_id"])


@blp.route("/opportunities")
class Opportunities(MethodView):
    @login_required()
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, OpportunityOut(many=True))
    def get(self, args):
        """Opportunities the caller may see, newest first."""
        rows = service.list_opportunities(me(), args["customer_id"], args["stage"], args["limit"])
        return [service.present_opportunity(o) for o in rows]

    @login_required()
    @blp.arguments(OpportunityCreateSchema)
    @blp.response(201, OpportunityOut)
    def post(self, args):
        """Create an opportunity (owner or write co-follower); the gate of its stage applies."""
        return service.present_opportunity(service.create_opportunity(args, me()))


@blp.route("/opportunities/<uuid:opportunity_id>")
class OpportunityById(MethodView):
    @login_required()
    @blp.response(200, OpportunityOut)
    def get(self, opportunity_id: uuid.UUID):
        opportunity, _ = service.get_opportunity(me(), opportunity_id)
        return service.present_opportunity(opportunity)

    @login_required()
    @blp.arguments(OpportunityUpdateSchema)
    @blp.response(200, OpportunityOut)
    def patch(self, args, opportunity_id: uuid.UUID):
        """Change fields (`changes`), merged from `base_version` like `opportunity.update` (values
        someone else wrote since are overwritten and kept in the change history)."""
        changes = load_changes(args["changes"])
        opportunity, _ = service.update_opportunity(opportunity_id, changes, args["base_version"], me())
        return service.present_opportunity(opportunity)


@blp.route("/opportunities/<uuid:opportunity_id>/stage")
class OpportunityStage(MethodView):
    @login_required()
    @blp.arguments(SetStageSchema)
    @blp.response(200, OpportunityOut)
    def post(self, args, opportunity_id: uuid.UUID):
        """Enter a stage; 422 `stage_requirements_unmet` with `details.missing` when its gate is closed."""
        return service.present_opportunity(service.set_stage(opportunity_id, args["stage"], args["loss_reason"], me()))


@blp.route("/deals")
class Deals(MethodView):
    @login_required()
    @blp.arguments(DealListArgs, location="query")
    @blp.response(200, DealOut(many=True))
    def get(self, args):
        rows = service.list_deals(me(), args["customer_id"], args["opportunity_id"], args["limit"])
        return [service.present_deal(d) for d in rows]

    @login_required()
    @blp.arguments(DealCreateSchema)
    @blp.response(201, DealOut)
    def post(self, args):
        """A draft contract; 409 `contract_no_taken` when the number is already recorded."""
        return service.present_deal(service.create_deal(args, me()))


@blp.route("/deals/<uuid:deal_id>")
class DealById(MethodView):
    @login_required()
    @blp.response(200, DealOut)
    def get(self, deal_id: uuid.UUID):
        deal, _ = service.get_deal(me(), deal_id)
        return service.present_deal(deal)


@blp.route("/deals/<uuid:deal_id>/sign")
class DealSign(MethodView):
    @login_required()
    @blp.arguments(DealSignSchema)
    @blp.response(200, DealOut)
    def post(self, args, deal_id: uuid.UUID):
        """Sign: the customer becomes `signed`, its deal total grows, the opportunity is won."""
        return service.present_deal(service.sign_deal(deal_id, me(), args["signed_date"], args["attachment"]))


@blp.route("/payments")
class Payments(MethodView):
    @login_required()
    @blp.arguments(PaymentListArgs, location="query")
    @blp.response(200, PaymentOut(many=True))
    def get(self, args):
        rows = service.list_payments(me(), args["customer_id"], args["deal_id"], args["limit"])
        return [service.present_payment(p) for p in rows]

    @login_required()
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentOut)
    def post(self, args):
        """A payment on a signed contract; 409 `overpayment` (details: contract_amount, paid,
        remaining) when the paid total would exceed the contract amount."""
        return service.present_payment(service.create_payment(args, me()))


# ---- attachments ------------------------------------------------------------------------------------

_RAW_BODY = {"requestBody": {"required": True,
                             "description": "The bytes: a PDF, or a JPEG, PNG or HEIC image; at most 20 MB",
                             "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}}}


def _valid_sha(sha256: str) -> str:
    return blobs.valid_sha(sha256, attachments.not_found)


@blp.route("/attachments/<string:sha256>")
class AttachmentBySha(MethodView):
    @login_required()
    @blp.doc(**_RAW_BODY)
    @blp.response(201, AttachmentOut, description="Stored")
    @blp.alt_response(200, schema=AttachmentOut, description="These bytes were already there (idempotent)")
    def put(self, sha256: str):
        """Upload a contract document or proof under the SHA-256 of its bytes. 413 over 20 MB,
        422 `hash_mismatch`, 415 `unsupported_media_type`, 422 `invalid_image`: nothing stored."""
        _valid_sha(sha256)
        limit = attachments.MAX_ATTACHMENT_BYTES
        request.max_content_length = limit + 1  # this route's own limit, above the app-wide one
        data = blobs.read_body(limit, photos.PayloadTooLarge, "An attachment may be at most 20 MB")
        attachment, created = attachments.store(sha256, data, me())
        return attachments.present(attachment), 201 if created else 200

    @login_required()
    @blp.response(200, description="There, and the caller may read it")
    def head(self, sha256: str):
        attachment = attachments.get_visible(me(), _valid_sha(sha256))
        attachments.require_file(attachment)
        return blobs.head_response(attachment.mime, attachment.sha256)

    @login_required()
    @blp.response(200, description="The bytes as uploaded", content_type="application/pdf")
    def get(self, sha256: str):
        """The bytes, for their uploaders and whoever may see a customer whose opportunity, deal
        or payment refers to them; 404 for everyone else."""
        attachment = attachments.get_visible(me(), _valid_sha(sha256))
        attachments.require_file(attachment)
        response = blobs.send_stored(attachments.path_of(attachment.sha256), attachment.mime, attachment.sha256,
                                     attachment.created_at)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "sandbox"
        return response

