"""GET /api/v1/health (no authentication: load balancers and monitors call it)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from server.health import service

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Health of this app server")


class DatabaseHealth(Schema):
    ok = fields.Boolean()
    backend = fields.String(metadata={"description": "sqlite or postgresql"})
    latency_ms = fields.Float(metadata={"description": "time of SELECT 1"})


class SchemaHealth(Schema):
    state = fields.String(metadata={"description": "current, or ahead during a rolling upgrade"})
    current = fields.List(fields.String(), metadata={"description": "the database's Alembic revision(s)"})
    head = fields.List(fields.String(), metadata={"description": "the revision(s) this release expects"})


class RateLimitHealth(Schema):
    ok = fields.Boolean()
    storage = fields.String(metadata={"description": "memory or redis"})


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok, or degraded when the rate-limit storage is down "
                                                    "(sign-in fails; everything else works)"})
    version = fields.String(metadata={"description": "the fieldcrm release"})
    database = fields.Nested(DatabaseHealth)
    schema = fields.Nested(SchemaHealth)
    rate_limits = fields.Nested(RateLimitHealth)


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="Database down or schema older than the code (`fieldcrm db upgrade`), "
                                       "in the error envelope")
    def get(self):
        """200 when this server can serve: the database answers SELECT 1 within 3 s and its schema
        is at (or, mid-upgrade, past) this release's migrations."""
        return service.check(), 200, {"Cache-Control": "no-store"}
