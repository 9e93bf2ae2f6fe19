"""Login, refresh, logout, me (SPEC §13)."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth import service
from server.auth.schemas import LoginSchema, TokensSchema
from server.common.auth import jwt_payload, login_required, me
from server.common.transaction import keep_on_error
from server.extensions import limiter
from server.org.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and tokens")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_IP"]


@blp.route("/auth/login")
class Login(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]

    @blp.arguments(LoginSchema)
    @blp.response(200, TokensSchema)
    def post(self, args):
        keep_on_error()  # failed attempts count toward the lock even though we answer 401
        tokens, user = service.login(args["username"], args["password"], request.headers.get("User-Agent"))
        return {**tokens, "user": user}


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @login_required(refresh=True)
    @blp.response(200, TokensSchema)
    def post(self):
        keep_on_error()  # a reused token's family stays revoked although we answer 401
        return {**service.refresh(jwt_payload(), me()), "user": me()}


@blp.route("/auth/logout")
class Logout(MethodView):
    @login_required()
    @blp.response(204)
    def post(self):
        service.logout(jwt_payload())


@blp.route("/me")
class Me(MethodView):
    @login_required()
    @blp.response(200, UserSchema)
    def get(self):
        return me()
