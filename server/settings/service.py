"""Reading and changing settings. Services read them through `get_settings()`."""
from __future__ import annotations

import copy
from typing import Any

from flask import g, has_app_context
from marshmallow import ValidationError
from sqlalchemy import select

from server.common import audit
from server.common.errors import ValidationFailed
from server.extensions import db
from server.settings.defaults import default_settings
from server.settings.models import Setting
from server.settings.schemas import SettingsSchema


class SettingsView(dict):
    """The effective settings; nested values readable as attributes (`s.quotas["KA"]`,
    `s.login.max_failures`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc
        return SettingsView(value) if isinstance(value, dict) else value


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in ("by_status",):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get_settings() -> SettingsView:
    if has_app_context() and "fieldcrm_settings" in g:
        return g.fieldcrm_settings
    stored = {row.key: row.value for row in db.session.scalars(select(Setting))}
    view = SettingsView(_merge(default_settings(), stored))
    if has_app_context():
        g.fieldcrm_settings = view
    return view


def update_settings(changes: dict, actor=None) -> SettingsView:
    """Validate a partial settings document and store the top-level keys it names."""
    try:
        loaded = SettingsSchema().load(changes, partial=True)
    except ValidationError as exc:
        raise ValidationFailed("Some settings are not valid", details={"fields": exc.messages}) from exc
    current = get_settings()
    for key, value in loaded.items():
        merged = _merge(current[key], value) if isinstance(value, dict) and key != "quotas" else value
        if key == "quotas":
            merged = {**current["quotas"], **value}
        row = db.session.get(Setting, key)
        before = row.value if row else current[key]
        if row is None:
            row = Setting(key=key, value=merged)
            db.session.add(row)
        else:
            row.value = merged
        if actor is not None:
            row.updated_by_id = actor.id
        audit.record("settings.update", "settings", key, {key: [before, merged]},
                     actor_id=actor.id if actor else None)
    db.session.flush()
    if has_app_context():
        g.pop("fieldcrm_settings", None)
    return get_settings()


def industries() -> list[dict]:
    return list(get_settings()["industries"])


def industry(code: str) -> dict | None:
    return next((i for i in industries() if i["code"] == code), None)
