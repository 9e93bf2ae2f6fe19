"""POST /api/v1/sync/push, /pull and the rejection inbox's resolve (SPEC §12)."""
from __future__ import annotations

import logging

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server.common.auth import login_required, me
from server.common.errors import envelope
from server.common.schemas import StrictSchema
from server.sync_api import service
from sync import protocol
from sync.errors import ProtocolError
from sync.push import BatchStopped

log = logging.getLogger("fieldcrm.sync")
blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync")


def _json_body(limit: int | None = None):
    if limit is not None:
        size = request.content_length
        if size is None:  # a chunked upload has no Content-Length: measure what arrived
            size = len(request.get_data(cache=True))
        if size > limit:
            raise ProtocolError(413, "payload_too_large", "A push may carry at most 5 MB",
                                {"limit_bytes": limit})
    body = request.get_json(silent=True)
    if body is None:
        raise ProtocolError(400, "malformed_request", "The body must be JSON")
    return body


def _protocol_error(exc: ProtocolError):
    return envelope(exc.code, exc.message, exc.details, exc.status)


@blp.route("/push")
class Push(MethodView):
    @login_required()
    @blp.doc(description="Apply a batch of queued mutations in order, exactly once each.")
    def post(self):
        try:
            body = _json_body(protocol.MAX_PUSH_BYTES)
            push_request = protocol.parse_push(body, request.content_length)
            return service.push(push_request, me())
        except ProtocolError as exc:
            return _protocol_error(exc)
        except BatchStopped as stopped:
            log.error("sync push stopped by an unexpected error", exc_info=stopped.cause)
            return envelope("unavailable", "The server could not finish this batch; retry shortly",
                            {"last_mutation_id": stopped.last_mutation_id, "results": stopped.results}, 503)


@blp.route("/pull")
class Pull(MethodView):
    @login_required()
    @blp.doc(description="Bring the client's copy up to date from its cookie, in pages.")
    def post(self):
        try:
            return service.pull(protocol.parse_pull(_json_body()), me())
        except ProtocolError as exc:
            return _protocol_error(exc)


class ReplacementSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    args = fields.Dict(required=True)


class ResolveSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    action = fields.String(required=True, validate=validate.OneOf(["discard", "retry"]))
    mutation = fields.Nested(ReplacementSchema, load_default=None)


class ResolveResultSchema(Schema):
    status = fields.String()
    error = fields.Dict()
    server = fields.Dict()


@blp.route("/rejections/<int:mutation_id>/resolve")
class Resolve(MethodView):
    @login_required()
    @blp.arguments(ResolveSchema)
    @blp.response(200, ResolveResultSchema)
    def post(self, args, mutation_id: int):
        from server.common.errors import ValidationFailed

        if args["action"] == "retry" and not args.get("mutation"):
            raise ValidationFailed("A retry needs the replacement mutation",
                                   details={"fields": {"mutation": ["required for retry"]}})
        return service.resolve_rejection(me(), str(args["client_id"]), mutation_id, args["action"],
                                         args.get("mutation"))


@blp.route("/rejections")
class Rejections(MethodView):
    @login_required()
    def get(self):
        return {"rejections": [service.present_rejection(r) for r in service.open_rejections(me())]}
