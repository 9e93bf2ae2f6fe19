"""Pool browsing (online, not synced): GET /api/v1/pools and /api/v1/pools/{pool}/customers."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from server.common.auth import login_required, me
from server.common.errors import NotFound
from server.common.schemas import StrictSchema
from server.customers.models import Customer, Pool
from server.extensions import db
from server.pools import service

blp = Blueprint("pools", __name__, url_prefix="/api/v1/pools", description="Customer pools (公海)")


class PoolSchema(Schema):
    pool = fields.String()
    count = fields.Integer()


class PoolArgs(StrictSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PoolCustomerSchema(Schema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    name = fields.String()
    industry = fields.String()
    business_line = fields.String()
    region = fields.String()
    pool = fields.String()
    released_at = fields.DateTime(allow_none=True)
    times_reclaimed = fields.Integer()


class PoolPageSchema(Schema):
    items = fields.List(fields.Nested(PoolCustomerSchema))
    next_cursor = fields.String(allow_none=True)


@blp.route("")
class Pools(MethodView):
    @login_required()
    @blp.response(200, PoolSchema(many=True))
    def get(self):
        pools = service.claimable_pools(me())
        counts = dict(db.session.execute(select(Customer.pool, func.count()).where(
            Customer.pool.in_(pools), Customer.voided_at.is_(None)).group_by(Customer.pool)).all())
        return [{"pool": p.value, "count": counts.get(p, 0)} for p in pools]


@blp.route("/<pool>/customers")
class PoolCustomers(MethodView):
    @login_required()
    @blp.arguments(PoolArgs, location="query")
    @blp.response(200, PoolPageSchema)
    def get(self, args, pool: str):
        try:
            pool_value = Pool(pool)
        except ValueError:
            raise NotFound("No such pool", details={"pool": pool}) from None
        try:
            rows, cursor = service.browse(me(), pool_value, args["q"], args["limit"], args["cursor"])
        except ValueError:
            from server.common.errors import ValidationFailed

            raise ValidationFailed("Bad cursor", details={"fields": {"cursor": ["not a cursor"]}}) from None
        return {"items": [service.present_pool_customer(c) for c in rows], "next_cursor": cursor}
