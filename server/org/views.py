"""Admin API: departments and users (SPEC §13)."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from server.common.auth import login_required, me
from server.extensions import db
from server.org import service
from server.org.models import BusinessLine, Department, Role, User
from server.org.schemas import (DepartmentCreateSchema, DepartmentSchema, UserCreateSchema, UserSchema,
                                UserUpdateSchema)

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Administration")


@blp.route("/departments")
class Departments(MethodView):
    @login_required(Role.admin)
    @blp.response(200, DepartmentSchema(many=True))
    def get(self):
        return db.session.scalars(select(Department).order_by(Department.path)).all()

    @login_required(Role.admin)
    @blp.arguments(DepartmentCreateSchema)
    @blp.response(201, DepartmentSchema)
    def post(self, args):
        line = BusinessLine(args["business_line"]) if args.get("business_line") else None
        return service.create_department(args["name"], args.get("parent_id"), line, actor=me())


@blp.route("/users")
class Users(MethodView):
    @login_required(Role.admin)
    @blp.response(200, UserSchema(many=True))
    def get(self):
        return db.session.scalars(select(User).order_by(User.username)).all()

    @login_required(Role.admin)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, args):
        return service.create_user(role=Role(args.pop("role")), actor=me(), **args)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @login_required(Role.admin)
    @blp.response(200, UserSchema)
    def get(self, user_id: uuid.UUID):
        return service.get_user(user_id)

    @login_required(Role.admin)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, args, user_id: uuid.UUID):
        if "role" in args:
            args["role"] = Role(args["role"])
        return service.update_user(service.get_user(user_id), args, actor=me())
