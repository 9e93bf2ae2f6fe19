"""The directory every phone keeps: departments, users (directory fields only), settings."""
from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.org.models import Department, User
from server.org.schemas import DepartmentSchema
from server.settings.models import Setting
from server.settings.service import get_settings
from server.sync_api.feeds import GlobalFeed, register_feed
from sync.pull import Plan

_department_schema = DepartmentSchema()

# What a client needs to pre-check rules offline (the server decides again anyway).
CLIENT_SETTINGS = ("timezone", "quotas", "cooldown_days", "reclaim", "follow_up", "industries",
                   "verification")


def present_department(department: Department, plan: Plan) -> dict:
    return _department_schema.dump(department)


def present_user(user: User, plan: Plan) -> dict:
    # Directory fields only: no username, e-mail, phone or security state of other users.
    data = {"id": str(user.id), "display_name": user.display_name, "role": user.role.value,
            "department_id": str(user.department_id), "active": user.active}
    if user.id == plan.viewer.id:
        data["username"] = user.username
    return data


class SettingsFeed:
    entity = "settings"

    def phase(self):
        def run(plan: Plan, after: str | None, limit: int):
            version = db.session.scalar(select(func.max(Setting.version))) or 0
            if not plan.reset and not (plan.since < version <= plan.upto):
                return [], None
            settings = get_settings()
            data = {key: settings[key] for key in CLIENT_SETTINGS}
            return [{"op": "put", "entity": "settings", "id": "org", "version": version, "data": data}], None

        return run


register_feed(GlobalFeed("department", Department, present_department))
register_feed(GlobalFeed("user", User, present_user))
register_feed(SettingsFeed())
