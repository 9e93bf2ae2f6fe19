"""Customer endpoints: search and duplicate look-up, detail, create, contacts."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.common.cursors import decode_cursor, encode_cursor
from server.customers import access, service
from server.customers.schemas import (ContactCreateSchema, ContactSchema, CustomerCreateSchema,
                                      CustomerDetailSchema, CustomerSearchArgs, CustomerSearchResultSchema)
from server.extensions import db

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers", description="Customers")


@blp.route("")
class Customers(MethodView):
    @login_required()
    @blp.arguments(CustomerSearchArgs, location="query")
    @blp.response(200, CustomerSearchResultSchema)
    def get(self, args):
        """The caller's customers (R-O4); with `q`, also the duplicate look-up of R-C2."""
        user = me()
        rows, cursor = service.search_visible(user, args["q"], args["scope"], args["limit"],
                                              decode_cursor(args["cursor"]))
        matches = service.duplicate_matches(user, args["q"]) if args["q"] else []
        return {"items": [service.present_customer(c, user) for c in rows], "matches": matches,
                "next_cursor": encode_cursor(cursor)}

    @login_required()
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerDetailSchema)
    def post(self, args):
        customer = service.create_customer(args, me())
        db.session.refresh(customer)
        return service.present_customer(customer, me(), with_contacts=True)


@blp.route("/<uuid:customer_id>")
class CustomerById(MethodView):
    @login_required()
    @blp.response(200, CustomerDetailSchema)
    def get(self, customer_id: uuid.UUID):
        customer = access.get_visible_customer(me(), customer_id)
        return service.present_customer(customer, me(), with_contacts=True)


@blp.route("/<uuid:customer_id>/contacts")
class CustomerContacts(MethodView):
    @login_required()
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    def post(self, args, customer_id: uuid.UUID):
        customer = access.get_visible_customer(me(), customer_id)
        contact = service.create_contact(customer, args, me())
        return service.present_contact(contact, unmasked=True)


# ---- invalid tracking (R-P8) --------------------------------------------------------------------

from server.common.auth import login_required as _login_required  # noqa: E402
from server.followups import service as _followups  # noqa: E402
from server.followups.schemas import (FlaggedListSchema, FlaggedReturnArgs,  # noqa: E402
                                      FlaggedReturnResultSchema)
from server.org.models import Role as _Role  # noqa: E402


@blp.route("/flagged")
class FlaggedCustomers(MethodView):
    @_login_required(_Role.manager, _Role.admin)
    @blp.response(200, FlaggedListSchema)
    def get(self):
        """Customers flagged by invalid tracking (R-P8) within the caller's access, with reasons."""
        items = _followups.flagged_customers(me())
        return {"items": [_followups.present_flagged(i) for i in items], "total": len(items)}


@blp.route("/flagged/return")
class FlaggedCustomersReturn(MethodView):
    @_login_required(_Role.manager, _Role.admin)
    @blp.arguments(FlaggedReturnArgs)
    @blp.response(200, FlaggedReturnResultSchema)
    def post(self, args):
        """Return flagged customers to their origin pools in one action (all or nothing)."""
        return {"returned": _followups.return_flagged(me(), args["customer_ids"], args["reason"])}


# ---- transfers, void/restore, change history, hand-over (R-T1, R-C11, R-T2, R-U2) ----------------

from marshmallow import Schema, fields, validate  # noqa: E402

from server.common.schemas import StrictSchema  # noqa: E402


class TransferSchema(StrictSchema):
    customer_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    to_user_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=300))


class TransferResultSchema(Schema):
    transferred = fields.List(fields.String())
    pending_approvals = fields.List(fields.Dict())


class VoidSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=300))


class RestoreSchema(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


class HistorySchema(Schema):
    customer_id = fields.String()
    changes = fields.List(fields.Dict())
    events = fields.List(fields.Dict())


class HandoverArgs(StrictSchema):
    user_id = fields.UUID(load_default=None)


class HandoverSchema(Schema):
    items = fields.List(fields.Dict())


@blp.route("/transfer")
class CustomerTransfer(MethodView):
    @login_required()
    @blp.arguments(TransferSchema)
    @blp.response(200, TransferResultSchema)
    def post(self, args):
        """R-T1 online (e.g. a manager's bulk hand-over): same rules as `customer.transfer`."""
        from server.customers.mutations import _active_user, _locked_customer

        receiver = _active_user(args["to_user_id"])
        customers = [_locked_customer(cid) for cid in dict.fromkeys(args["customer_ids"])]
        outcome = service.transfer_customers(customers, receiver, args["reason"], me())
        return {"transferred": [str(c.id) for c in outcome.transferred],
                "pending_approvals": [{"approval_id": str(a.id), "customer_id": str(a.customer_id)}
                                      for a in outcome.approvals]}


@blp.route("/<uuid:customer_id>/void")
class CustomerVoid(MethodView):
    @login_required()
    @blp.arguments(VoidSchema)
    @blp.response(200, CustomerDetailSchema)
    def post(self, args, customer_id: uuid.UUID):
        """R-C11: a manager above the owner (or an admin) voids a customer with a reason."""
        customer = service.void_customer(customer_id, me(), args["reason"].strip())
        return service.present_customer(customer, me(), with_contacts=True)


@blp.route("/<uuid:customer_id>/restore")
class CustomerRestore(MethodView):
    @login_required()
    @blp.arguments(RestoreSchema)
    @blp.response(200, CustomerDetailSchema)
    def post(self, args, customer_id: uuid.UUID):
        customer = service.restore_customer(customer_id, me(), args["reason"])
        return service.present_customer(customer, me(), with_contacts=True)


@blp.route("/<uuid:customer_id>/history")
class CustomerHistory(MethodView):
    @login_required()
    @blp.response(200, HistorySchema)
    def get(self, customer_id: uuid.UUID):
        """变更记录: field changes (customer and contacts) with before/after, and ownership events."""
        from server.common.audit import jsonable

        return jsonable(service.change_history(me(), customer_id))


@blp.route("/handover")
class Handover(MethodView):
    @login_required()
    @blp.arguments(HandoverArgs, location="query")
    @blp.response(200, HandoverSchema)
    def get(self, args):
        """R-U2: leavers' customers to hand over (managers above the leaver; admins)."""
        from server.common.audit import jsonable
        from server.common.errors import NotAuthorized
        from server.handover.service import handover_list
        from server.org.models import Role

        if me().role not in (Role.manager, Role.admin):
            raise NotAuthorized("Only managers and admins hand customers over")
        return {"items": jsonable(handover_list(me(), args["user_id"]))}
