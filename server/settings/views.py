"""GET|PUT /api/v1/admin/settings and the public industry list."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server.common.auth import login_required, me
from server.customers.schemas import IndustryOutSchema
from server.org.models import Role
from server.settings import service
from server.settings.schemas import SettingsSchema

blp = Blueprint("settings", __name__, url_prefix="/api/v1", description="Settings and industries")


class SettingsBody(SettingsSchema):
    """A partial settings document: the keys it names are replaced (nested keys merged)."""


@blp.route("/admin/settings")
class Settings(MethodView):
    @login_required(Role.admin)
    @blp.response(200, SettingsSchema)
    def get(self):
        return service.get_settings()

    @login_required(Role.admin)
    @blp.arguments(SettingsBody(partial=True), as_kwargs=False)
    @blp.response(200, SettingsSchema)
    def put(self, args):
        return service.update_settings(args, actor=me())


@blp.route("/industries")
class Industries(MethodView):
    @login_required()
    @blp.response(200, IndustryOutSchema(many=True))
    def get(self):
        return service.industries()
