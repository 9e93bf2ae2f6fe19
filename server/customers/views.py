"""Customer endpoints: search and duplicate look-up, detail, create, contacts."""
from __future__ import annotations

import base64
import json
import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.common.errors import ValidationFailed
from server.customers import access, service
from server.customers.schemas import (ContactCreateSchema, ContactSchema, CustomerCreateSchema,
                                      CustomerDetailSchema, CustomerSearchArgs, CustomerSearchResultSchema)
from server.extensions import db

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers", description="Customers")


def _decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(value[0]), str(uuid.UUID(value[1]))
    except (ValueError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ValidationFailed("Bad cursor", details={"fields": {"cursor": ["not a cursor"]}}) from exc


def _encode_cursor(value: tuple[str, str] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(list(value)).encode()).decode() if value else None


@blp.route("")
class Customers(MethodView):
    @login_required()
    @blp.arguments(CustomerSearchArgs, location="query")
    @blp.response(200, CustomerSearchResultSchema)
    def get(self, args):
        """The caller's customers (R-O4); with `q`, also the duplicate look-up of R-C2."""
        user = me()
        rows, cursor = service.search_visible(user, args["q"], args["scope"], args["limit"],
                                              _decode_cursor(args["cursor"]))
        matches = service.duplicate_matches(user, args["q"]) if args["q"] else []
        return {"items": [service.present_customer(c, user) for c in rows], "matches": matches,
                "next_cursor": _encode_cursor(cursor)}

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
