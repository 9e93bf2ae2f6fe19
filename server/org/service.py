"""Departments and users: creation, changes, deactivation (SPEC R-U1, R-U2)."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from server.common import audit
from server.common.db import utcnow
from server.common.errors import Conflict, NotFound, ValidationFailed
from server.common.passwords import hash_password
from server.extensions import db
from server.org.models import BusinessLine, Department, Role, User

MIN_PASSWORD_LENGTH = 8


def get_department(department_id: uuid.UUID) -> Department:
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound("Department not found", details={"department_id": str(department_id)})
    return department


def find_department(ref: str) -> Department:
    """A department by id or by (unique enough) name, for the CLI."""
    try:
        return get_department(uuid.UUID(ref))
    except ValueError:
        pass
    matches = db.session.scalars(select(Department).where(Department.name == ref)).all()
    if len(matches) != 1:
        raise NotFound(f"No single department named {ref!r}", details={"department": ref})
    return matches[0]


def create_department(name: str, parent_id: uuid.UUID | None, business_line: BusinessLine | None,
                      actor: User | None = None) -> Department:
    parent = get_department(parent_id) if parent_id else None
    if parent is None and business_line is None:
        raise ValidationFailed("A top-level department needs a business line",
                               details={"fields": {"business_line": ["required for a top-level department"]}})
    department = Department(id=uuid.uuid4(), name=name.strip(), parent_id=parent.id if parent else None,
                            own_business_line=business_line,
                            business_line=business_line or parent.business_line)
    department.path = f"{parent.path if parent else '/'}{department.id.hex}/"
    db.session.add(department)
    db.session.flush()
    audit.record("department.create", "department", department.id,
                 {"name": [None, department.name], "parent_id": [None, parent_id],
                  "business_line": [None, department.business_line]},
                 actor_id=actor.id if actor else None)
    return department


def subtree_ids(department: Department) -> list[uuid.UUID]:
    return list(db.session.scalars(select(Department.id).where(Department.path.startswith(department.path))))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("The password is too short",
                               details={"fields": {"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]}})


def create_user(username: str, password: str, display_name: str, role: Role,
                department_id: uuid.UUID, actor: User | None = None, **extra) -> User:
    username = username.strip().lower()
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Conflict("This username is taken", code="username_taken", details={"username": username})
    _check_password(password)
    department = get_department(department_id)
    user = User(username=username, display_name=display_name.strip(), role=role,
                department_id=department.id, password_hash=hash_password(password), **extra)
    user.department = department
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id,
                 {"username": [None, username], "role": [None, role], "department_id": [None, department.id]},
                 actor_id=actor.id if actor else None)
    return user


def get_user(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found", details={"user_id": str(user_id)})
    return user


def update_user(user: User, changes: dict, actor: User | None = None) -> User:
    """Admin changes to a user. Deactivation and password changes revoke every token at once."""
    before = {k: getattr(user, k, None) for k in changes if k != "password"}
    revoke = False
    if "password" in changes:
        _check_password(changes["password"])
        user.password_hash = hash_password(changes.pop("password"))
        revoke = True
    if "department_id" in changes:
        user.department = get_department(changes["department_id"])
    if "active" in changes and changes["active"] != user.active:
        revoke = True
        user.deactivated_at = None if changes["active"] else utcnow()
        if changes["active"]:
            user.failed_logins, user.locked_until = 0, None
    for key, value in changes.items():
        setattr(user, key, value)
    if revoke:
        from server.auth.service import revoke_all_tokens

        revoke_all_tokens(user)
    db.session.flush()
    after = {k: getattr(user, k, None) for k in before}
    entry = audit.diff(before, after)
    if revoke and "password_hash" not in entry:
        entry["password"] = ["***", "***"]
    audit.record("user.update", "user", user.id, entry, actor_id=actor.id if actor else None)
    if "active" in entry and not user.active:
        from server.handover.service import user_deactivated

        user_deactivated(user, actor)  # R-U2: their customers go on the hand-over list
    return user


def find_or_create_root(name: str, line: BusinessLine) -> Department:
    existing = db.session.scalar(select(Department).where(Department.name == name, Department.parent_id.is_(None)))
    return existing or create_department(name, None, line)
